import { readFileSync } from "node:fs";
import { request } from "node:https";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256 } from "../../src/directory/http.js";
import { buildDirectory } from "../../src/directory/server.js";
import { openSqliteStorage } from "../../src/directory/storage/sqlite/index.js";
import { tempDir } from "../helpers.js";
import { makeCa } from "../support/tls.js";

const ADMIN = "admin-token-for-the-tls-dashboard-test";

/** One HTTPS request trusting only the test's CA; the answer's status, Set-Cookie lines and body. */
function send(url: string, ca: Buffer, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; cookies: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers, ca }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, cookies: res.headers["set-cookie"] ?? [], body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("the dashboard over TLS", () => {
  const dir = tempDir("congruent-dashboard-tls-");
  const ca = makeCa(dir);
  const pair = ca.issue("directory");
  const storage = openSqliteStorage(":memory:");
  let app: FastifyInstance;
  let url = "";

  beforeAll(async () => {
    app = buildDirectory({ storage, adminTokenHash: sha256(ADMIN), https: { cert: readFileSync(pair.cert), key: readFileSync(pair.key) } });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await storage.close();
  });

  it("marks the session and CSRF cookies Secure (and still HttpOnly, SameSite=Strict)", async () => {
    const trust = readFileSync(ca.caCert);
    const login = await send(`${url}/login`, trust);
    expect(url).toMatch(/^https:/);
    const csrf = login.cookies.find((c) => c.startsWith("congruent_csrf="))!;
    expect(csrf).toMatch(/; Secure/);
    const token = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
    const done = await send(`${url}/login`, trust, {
      method: "POST",
      headers: { cookie: csrf.split(";")[0]!, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: token, token: ADMIN }).toString(),
    });
    expect(done.status).toBe(303);
    const session = done.cookies.find((c) => c.startsWith("congruent_session="))!;
    for (const flag of ["; Secure", "; HttpOnly", "; SameSite=Strict"]) expect(session).toContain(flag);
  });
});
