import { brotliDecompressSync, gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../directory/http.js";
import { buildDirectory } from "../directory/server.js";
import type { Storage } from "../directory/storage.js";
import { openSqliteStorage } from "../directory/storage/sqlite/index.js";
import { WEB_DIR } from "./render.js";

const ADMIN = "admin-secret-token-for-dashboard-tests";
const admin = { authorization: `Bearer ${ADMIN}` };
let storage: Storage;
let app: FastifyInstance;
let now = new Date("2026-12-01T10:00:00.000Z");
const hostTokens: Record<string, string> = {};

type Method = "GET" | "POST" | "DELETE";
async function call(method: Method, url: string, payload?: unknown, headers: Record<string, string> = admin) {
  return app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
}

const report = (result: string, extra: Record<string, unknown> = {}) => ({ generation: null, release: { channel: "stable", number: 1 }, result, startedAt: now.toISOString(), finishedAt: now.toISOString(), ...extra });

/** A browser's cookie jar, reduced to what these tests need. */
class Browser {
  cookies = new Map<string, string>();
  constructor(readonly extra: Record<string, string> = {}) {}
  private store(res: { headers: Record<string, unknown> }) {
    for (const c of ([] as string[]).concat((res.headers["set-cookie"] as string | string[] | undefined) ?? [])) {
      const [pair] = c.split(";");
      const [k, v] = pair!.split("=");
      if (/Expires=Thu, 01 Jan 1970/.test(c)) this.cookies.delete(k!);
      else this.cookies.set(k!, v!);
    }
  }
  private get header() {
    return { ...this.extra, cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
  }
  async get(url: string) {
    const r = await app.inject({ method: "GET", url, headers: this.header });
    this.store(r);
    return r;
  }
  async post(url: string, form: Record<string, string>) {
    const r = await app.inject({ method: "POST", url, headers: { ...this.header, "content-type": "application/x-www-form-urlencoded" }, payload: new URLSearchParams(form).toString() });
    this.store(r);
    return r;
  }
  /** The CSRF token a page's forms carry. */
  static csrf(html: string): string {
    return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  }
  async login(token: string) {
    const page = await this.get("/login");
    return this.post("/login", { _csrf: Browser.csrf(page.body), token, next: "/" });
  }
}

beforeEach(async () => {
  now = new Date("2026-12-01T10:00:00.000Z");
  storage = openSqliteStorage(":memory:");
  app = buildDirectory({ storage, adminTokenHash: sha256(ADMIN), now: () => now });
  await app.ready();
  await call("POST", "/v1/resource-groups", { name: "acme" });
  await call("POST", "/v1/channels", { name: "stable", canaryShare: 50 });
  await call("POST", "/v1/channels/stable/releases", { version: "r1", defaults: {} });
  await call("POST", "/v1/channels/stable/promote", { number: 1, canaryShare: 100 });
  for (const [name, roles] of [["web1", ["webgateway"]], ["web2", ["webgateway"]], ["db1", ["postgresql15"]]] as const) {
    const r = await call("POST", "/v1/hosts", { name, resourceGroup: "acme", roles, channel: "stable" });
    hostTokens[name] = r.json().token;
  }
  await call("POST", "/v1/hosts/web1/reports", report("switched"), { authorization: `Bearer ${hostTokens.web1}` });
  await call("POST", "/v1/hosts/db1/reports", report("failed", { error: '<img src=x onerror=alert(1)> nginx -t failed in /etc/local/nginx/a.conf:3' }), { authorization: `Bearer ${hostTokens.db1}` });
});
afterEach(async () => {
  await app.close();
  await storage.close();
});

describe("dashboard: logging in", () => {
  it("sends a visitor without a session to the login page, and back where they were after it", async () => {
    const b = new Browser();
    const r = await b.get("/hosts?q=status%3Afailed");
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe("/login?next=%2Fhosts%3Fq%3Dstatus%253Afailed");
    const page = await b.get(r.headers.location as string);
    expect(page.statusCode).toBe(200);
    const done = await b.post("/login", { _csrf: Browser.csrf(page.body), token: ADMIN, next: "/hosts?q=status%3Afailed" });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/hosts?q=status%3Afailed");
    // Elsewhere is not a place a login link may send anyone.
    const other = new Browser();
    const p2 = await other.get("/login");
    expect((await other.post("/login", { _csrf: Browser.csrf(p2.body), token: ADMIN, next: "//evil.example/" })).headers.location).toBe("/");
  });

  it("sets the session cookie HttpOnly and SameSite=Strict (Secure only under TLS), and refuses host tokens and junk", async () => {
    const b = new Browser();
    const r = await b.login(ADMIN);
    const cookie = ([] as string[]).concat(r.headers["set-cookie"] as string[]).find((c) => c.startsWith("congruent_session="))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toMatch(/; Secure/);
    for (const token of [hostTokens.web1!, "nonsense"]) {
      const refused = await new Browser().login(token);
      expect(refused.statusCode).toBe(401);
      expect(refused.body).toContain("not an admin or viewer token");
      expect(refused.headers["set-cookie"] ?? "").not.toContain("congruent_session=");
    }
  });

  it("refuses a login or any write without the CSRF token of its own session", async () => {
    const b = new Browser();
    await b.get("/login");
    expect((await b.post("/login", { token: ADMIN })).statusCode).toBe(403);
    await b.login(ADMIN);
    expect((await b.post("/channels/stable/pause", {})).statusCode).toBe(403);
    // A token made for another session does not pass either.
    const other = new Browser();
    await other.login(ADMIN);
    const foreign = Browser.csrf((await other.get("/channels/stable")).body);
    const r = await b.post("/channels/stable/promote", { _csrf: foreign, number: "1" });
    expect(r.statusCode).toBe(403);
    expect(r.body).toContain("Form expired");
  });

  it("ends a session at its expiry, and a viewer's when its token is removed", async () => {
    const b = new Browser();
    await b.login(ADMIN);
    expect((await b.get("/")).statusCode).toBe(200);
    now = new Date(now.getTime() + 25 * 3600_000);
    expect((await b.get("/")).statusCode).toBe(303);

    const created = (await call("POST", "/v1/tokens", { viewer: true, name: "noc" })).json();
    const v = new Browser();
    await v.login(created.token);
    expect((await v.get("/")).statusCode).toBe(200);
    expect((await call("DELETE", "/v1/tokens/noc")).statusCode).toBe(204);
    expect((await v.get("/")).statusCode).toBe(303);
  });
});

describe("dashboard: a viewer", () => {
  it("sees everything, no write control, and is refused a write anyway (dashboard and /v1)", async () => {
    const created = (await call("POST", "/v1/tokens", { viewer: true, name: "alice" })).json();
    expect(created).toMatchObject({ name: "alice", role: "viewer", token: expect.stringMatching(/^cgv_/) });
    expect((await call("GET", "/v1/tokens")).json()).toEqual([{ id: created.id, name: "alice", role: "viewer", createdAt: now.toISOString() }]);
    await call("POST", "/v1/channels/stable/releases", { version: "r2", defaults: {} });
    await call("POST", "/v1/channels/stable/promote", { number: 2 });

    const v = new Browser();
    await v.login(created.token);
    const page = await v.get("/channels/stable");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("alice (viewer)");
    expect(page.body).not.toMatch(/action="\/channels\/stable\/(pause|resume|promote|rollback)"/);
    expect(page.body).toContain("Read-only");
    expect((await v.get("/channels/stable/releases/2")).body).not.toContain('action="/channels/stable/promote"');
    // With a perfectly good CSRF token of its own session, still no.
    const refused = await v.post("/channels/stable/pause", { _csrf: Browser.csrf(page.body) });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain("a viewer token can look at everything and change nothing");
    expect((await storage.getChannel("stable"))!.rollout!.state).toBe("canary");

    const viewer = { authorization: `Bearer ${created.token}` };
    expect((await call("GET", "/v1/hosts", undefined, viewer)).statusCode).toBe(200);
    expect((await call("GET", "/v1/channels/stable/status", undefined, viewer)).statusCode).toBe(200);
    expect((await call("POST", "/v1/channels/stable/pause", {}, viewer)).json()).toMatchObject({ code: "E_DIRECTORY_FORBIDDEN" });
    expect((await call("POST", "/v1/tokens", { viewer: true }, viewer)).statusCode).toBe(403);
    expect((await call("POST", "/v1/hosts/web1/reports", report("switched"), viewer)).statusCode).toBe(403);
    expect((await storage.getChannel("stable"))!.rollout!.state).toBe("canary");
  });
});

describe("dashboard: pages", () => {
  it("escapes what agents send: an error text is text, never markup; a host's last error and its report caps are on its page", async () => {
    const b = new Browser();
    await b.login(ADMIN);
    for (const url of ["/hosts/db1", "/failures"]) {
      const body = (await b.get(url)).body;
      if (url === "/hosts/db1") {
        expect(body).toMatch(/<dt>Last error<\/dt><dd><pre class="error">&lt;img src=x onerror=alert\(1\)&gt; nginx -t failed in \/etc\/local\/nginx\/a.conf:3<\/pre>/);
        expect(body).toMatch(/keeps 1 report of this host \([\d.]+ B\), at most 200 and 4.0 MiB/);
      }
      expect(body).not.toContain("<img src=x");
      expect(body).toContain("&lt;img src=x onerror=alert(1)&gt;");
    }
  });

  it("filters, sorts and pages on the server; the URL holds the view; a bad query names its term", async () => {
    const b = new Browser();
    await b.login(ADMIN);
    const rows = (html: string) => [...html.matchAll(/<tr data-host="([^"]+)"/g)].map((m) => m[1]);
    expect(rows((await b.get("/hosts")).body)).toEqual(["db1", "web1", "web2"]);
    expect(rows((await b.get("/hosts?q=status%3Afailed")).body)).toEqual(["db1"]);
    expect(rows((await b.get("/hosts?q=role%3Awebgateway+-status%3Anever")).body)).toEqual(["web1"]);
    expect(rows((await b.get("/hosts?sort=status")).body)).toEqual(["db1", "web2", "web1"]);
    const paged = (await b.get("/hosts?per=25&sort=name&desc=1")).body;
    expect(rows(paged)).toEqual(["web2", "web1", "db1"]);
    expect(paged).toContain('aria-sort="descending"');
    const bad = await b.get("/hosts?q=colour%3Ablue");
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("colour:blue: unknown key");
  });

  it("exports exactly the filtered view, every page of it, as CSV and JSON", async () => {
    const b = new Browser();
    await b.login(ADMIN);
    const csv = await b.get("/hosts.csv?q=role%3Awebgateway&sort=name&desc=1&page=2&per=25");
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.body.split("\r\n").filter(Boolean).map((l) => l.split(",").slice(0, 3).join(","))).toEqual(["name,status,lastResult", "web2,never,", "web1,ok,switched"]);
    const json = (await b.get("/hosts.json?q=status%3Afailed")).json();
    expect(json).toMatchObject({ query: "status:failed", total: 1, hosts: [{ name: "db1", status: "failed", lastResult: "failed", roles: ["postgresql15"], release: null, lastReportRelease: 1 }] });
    expect((await b.get("/hosts.json?q=cve%3Ex")).statusCode).toBe(400);
    // A script can export with a token instead of a session.
    expect((await call("GET", "/hosts.json?q=status%3Afailed")).json().total).toBe(1);
  });

  it("renders every page for the admin, with headers that allow only its own script and styles", async () => {
    const b = new Browser();
    await b.login(ADMIN);
    b.extra["accept-encoding"] = "br, gzip";
    await call("POST", "/v1/channels/stable/releases", { version: "r2", defaults: { webgateway: { nginx: { worker_processes: 4 } } } });
    for (const url of ["/", "/hosts", "/hosts/web1", "/hosts/db1?changes=1", "/failures", "/channels", "/channels/stable", "/channels/stable/releases/2", "/vulnerabilities", "/vulnerabilities?by=host", "/migration"]) {
      const r = await b.get(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.headers["content-security-policy"]).toContain("script-src 'self'");
      expect(r.headers["cache-control"]).toBe("no-store");
      if (r.rawPayload.length > 1024) expect(r.headers["content-encoding"], url).toBe("br");
      expect(brotliDecompressSync(r.rawPayload).toString()).toMatch(/^<!doctype html>/);
    }
    expect((await b.get("/hosts/nope")).statusCode).toBe(404);
  });

  it("ships under 60 KB of JavaScript, compressed", () => {
    const js = readFileSync(path.join(WEB_DIR, "assets", "live.js"));
    expect(gzipSync(js, { level: 9 }).length).toBeLessThan(60 * 1024);
  });
});
