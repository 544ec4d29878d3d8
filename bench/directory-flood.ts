import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sha256 } from "../src/directory/http.js";
import type { ReportRate } from "../src/directory/rate-limit.js";
import { buildDirectory } from "../src/directory/server.js";
import { defaultRetention, type RetentionPolicy } from "../src/directory/storage.js";
import { openSqliteStorage } from "../src/directory/storage/sqlite/index.js";

const ADMIN = "bench-admin-token-0123456789abcdef";
const FLOOD = 400;

/** A failed report of ~237 KB: 1 000 plan entries with incompressible reasons. */
const flooding = {
  generation: null,
  release: null,
  result: "failed",
  error: "flood",
  plan: Array.from({ length: 1000 }, () => ({ service: "nginx", action: "reload", why: [randomBytes(140).toString("base64")] })),
  startedAt: "2025-01-01T00:00:00Z",
  finishedAt: "2025-01-01T00:00:01Z",
};

/** One host floods (as fast as it can, through the HTTP API), another reports as usual; the database's size after. */
async function flood(label: string, retention: RetentionPolicy, reportRate: ReportRate): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-flood-"));
  const file = path.join(dir, "directory.db");
  const storage = openSqliteStorage(file);
  const app = buildDirectory({ storage, adminTokenHash: sha256(ADMIN), retention, reportRate });
  try {
    const admin = { authorization: `Bearer ${ADMIN}` };
    await app.inject({ method: "POST", url: "/v1/resource-groups", headers: admin, payload: { name: "acme" } });
    const token = async (name: string) => (await app.inject({ method: "POST", url: "/v1/hosts", headers: admin, payload: { name, resourceGroup: "acme" } })).json().token as string;
    const [evil, good] = [await token("evil1"), await token("good1")];
    for (let i = 0; i < 20; i++) await app.inject({ method: "POST", url: "/v1/hosts/good1/reports", headers: { authorization: `Bearer ${good}` }, payload: { ...flooding, result: "switched", plan: [] } });
    const started = performance.now();
    let stored = 0;
    for (let i = 0; i < FLOOD; i++) {
      const r = await app.inject({ method: "POST", url: "/v1/hosts/evil1/reports", headers: { authorization: `Bearer ${evil}` }, payload: flooding });
      if (r.statusCode === 201) stored++;
    }
    const ms = performance.now() - started;
    const bytes = [file, `${file}-wal`].reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
    const [e, g] = [await storage.reportUsage("evil1"), await storage.reportUsage("good1")];
    const body = Buffer.byteLength(JSON.stringify(flooding));
    console.log(
      `${label}: ${FLOOD} × ${Math.round(body / 1000)} KB in ${Math.round(ms)} ms, ${stored} stored; database (file + WAL) ${(bytes / 1e6).toFixed(1)} MB; ` +
        `the flooding host keeps ${e.reports} reports (${(e.bytes / 1e6).toFixed(1)} MB), the other host ${g.reports} of 20`,
    );
    return bytes;
  } finally {
    await app.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- directory-flood`: the flood (one host token, 400 failed reports of
 * ~237 KB each, as fast as it can) against the directory as it was (the last 100 reports and
 * every failure of 30 days kept, no rate limit) and as it is (per-host caps, rate limit).
 */
export async function benchDirectoryFlood(): Promise<void> {
  const unlimited = { burst: 1e9, perMinute: 1e9 };
  const reference = await flood("no caps, no rate limit (before)", { keepLast: 100, failureDays: 30 }, unlimited);
  const capsOnly = await flood("caps only (4 MiB, 200 reports a host)", defaultRetention, unlimited);
  const both = await flood("caps and rate limit (the defaults)", defaultRetention, { burst: 30, perMinute: 6 });
  console.log(`database size against before: caps only ${(capsOnly / reference).toFixed(3)}×, caps and rate limit ${(both / reference).toFixed(3)}× (target: bounded by the caps, not by the flood)`);
}
