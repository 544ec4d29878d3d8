import { mkdtempSync, rmSync, statSync } from "node:fs";
import { get } from "node:http";
import os from "node:os";
import path from "node:path";
import type { openSqliteStorage as OpenSqlite } from "../src/directory/storage/sqlite/index.js";
import { sha256 } from "../src/directory/http.js";
import { freePort, percentile as pct, startDirectoryProcess } from "./measure.js";

const HOSTS = 5_000;
const REPORTS = 100;
const REQUESTS = 200;
const LIVE_CLIENTS = 10;
const LIVE_ROUNDS = 100;
const dist = path.resolve(import.meta.dirname, "../dist/directory");
const ROLES = ["webgateway", "postgresql15", "redis", "memcached"];


/** Milliseconds of each of `n` GETs in a row (one keep-alive connection), after 10 warm-up requests. */
async function timeGets(url: string, headers: Record<string, string>, n: number): Promise<{ ms: number[]; bytes: number }> {
  let bytes = 0;
  for (let i = 0; i < 10; i++) await (await fetch(url, { headers })).arrayBuffer();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fetch(url, { headers });
    const body = await r.arrayBuffer();
    ms.push(performance.now() - t);
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    bytes = body.byteLength;
  }
  return { ms, bytes };
}

/** The bytes on the wire (fetch would decompress them). */
function rawBytes(url: string, headers: Record<string, string>): Promise<{ bytes: number; encoding: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      let bytes = 0;
      res.on("data", (d: Buffer) => (bytes += d.length));
      res.on("end", () => resolve({ bytes, encoding: String(res.headers["content-encoding"] ?? "identity") }));
    }).on("error", reject);
  });
}

const line = (label: string, m: number[], ref: string, r: number[], target: number) =>
  console.log(`${label}: p50 ${pct(m, 50).toFixed(1)} ms, p95 ${pct(m, 95).toFixed(1)} ms (target < ${target} ms); ${ref}: p95 ${pct(r, 95).toFixed(1)} ms; ratio ${(pct(m, 95) / pct(r, 95)).toFixed(2)}×`);

/**
 * `npm run bench -- dashboard`: 5 000 hosts with 100 reports each (500 000 reports, SQLite).
 * The host list page and a host page, p50/p95 of loopback round trips, each against a /v1
 * route that reads the same rows (the JSON host list; a host's last 20 reports); live update
 * latency from a report's POST to the event on 10 open pages, against the POST's own round
 * trip; and the list page's bytes, raw and as sent (brotli).
 */
export async function benchDashboard(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-dashboard-"));
  const db = path.join(dir, "directory.db");
  const admin = "bench-admin-token";
  try {
    const { openSqliteStorage } = await import(path.join(dist, "storage/sqlite/index.js"));
    const storage = (openSqliteStorage as typeof OpenSqlite)(db);
    const now = Date.now();
    const iso = (t: number) => new Date(t).toISOString();
    await storage.createResourceGroup({ name: "bench", createdAt: iso(now) });
    await storage.createChannel({ name: "stable", canaryShare: 10, createdAt: iso(now), current: 1, previous: null, rolledBack: false, rollout: null });
    await storage.createRelease("stable", { version: "bench", defaults: {} }, iso(now));
    const hosts = Array.from({ length: HOSTS }, (_, i) => ({ name: `host${i}`, token: `bench-token-${i}`, role: ROLES[i % ROLES.length]! }));
    await storage.createHosts(hosts.map((h) => ({ host: { name: h.name, resourceGroup: "bench", roles: [h.role], parameters: { fqdn: `${h.name}.bench.example` }, settings: {}, channel: "stable", createdAt: iso(now), updatedAt: iso(now) }, tokenHash: sha256(h.token) })));
    const t0 = performance.now();
    for (let k = 0; k < REPORTS; k++) {
      for (const [i, h] of hosts.entries()) {
        const failed = (i + k) % 23 === 0;
        const at = iso(now - (REPORTS - k) * 600_000);
        await storage.addReport(h.name, {
          generation: `/var/lib/congruent/store/${sha256(`${h.name}${k % 5}`).slice(0, 32)}-system-${h.name}`,
          release: { channel: "stable", number: 1 },
          result: failed ? "failed" : k % 10 === 0 ? "switched" : "unchanged",
          plan: k % 10 === 0 ? [{ service: "nginx", action: "reload", why: [`worker_connections: ${k} → ${k + 1} (reload)`] }] : [],
          deferred: [],
          durations: { fetch: 3, build: 120, activate: 40, total: 170 },
          services: [{ name: "nginx", state: "running", pid: 1000 + i }],
          warnings: [],
          ...(failed ? { error: `nginx -t: unknown directive "gzip_typo" in /etc/local/nginx/${h.name}.conf:${k}` } : {}),
          ...(k === REPORTS - 1 && i % 7 === 0 ? { vulnerabilities: { total: 2, whitelisted: 0, findings: [{ cve: "CVE-2024-3094", score: 10, package: "xz-5.6.0" }, { cve: `CVE-2023-${40000 + (i % 50)}`, score: 5.5, package: "zlib-1.2.13" }] } } : {}),
          startedAt: at,
          finishedAt: at,
        }, at);
      }
    }
    const seedS = (performance.now() - t0) / 1000;
    await storage.close();
    console.log(`seeded ${HOSTS} hosts × ${REPORTS} reports in ${seedS.toFixed(1)} s; database ${(statSync(db).size / 2 ** 20).toFixed(0)} MiB`);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const stop = await startDirectoryProcess(db, port, sha256(admin), "staleAfterMs: 1e12");
    try {
      const loginPage = await fetch(`${base}/login`);
      const csrfCookie = loginPage.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!;
      const logged = await fetch(`${base}/login`, { method: "POST", redirect: "manual", headers: { cookie: csrfCookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ _csrf: csrf, token: admin }).toString() });
      const cookie = [csrfCookie, ...logged.headers.getSetCookie().map((c) => c.split(";")[0])].join("; ");
      const page = { cookie };
      const api = { authorization: `Bearer ${admin}` };

      const list = await timeGets(`${base}/hosts`, page, REQUESTS);
      const filtered = await timeGets(`${base}/hosts?q=${encodeURIComponent("role:postgresql15 status:failed")}&sort=last&desc=1`, page, REQUESTS);
      const v1list = await timeGets(`${base}/v1/hosts`, api, REQUESTS);
      const hostPage = await timeGets(`${base}/hosts/host4242`, page, REQUESTS);
      const hostChanges = await timeGets(`${base}/hosts/host4242?changes=1`, page, REQUESTS);
      const v1reports = await timeGets(`${base}/v1/hosts/host4242/reports?limit=20`, api, REQUESTS);
      const sent = await rawBytes(`${base}/hosts`, { ...page, "accept-encoding": "br, gzip" });
      const csv = await timeGets(`${base}/hosts.csv`, page, 20);

      console.log(`dashboard, ${HOSTS} hosts × ${REPORTS} reports, SQLite, ${REQUESTS} requests each (loopback round trips, one connection):`);
      line("  host list page (50 of 5 000)", list.ms, "/v1/hosts (all 5 000, JSON; reference)", v1list.ms, 100);
      line("  host list, filtered and sorted (role:postgresql15 status:failed, by last report)", filtered.ms, "/v1/hosts", v1list.ms, 100);
      line("  host page (history of 20 runs)", hostPage.ms, "/v1/hosts/:name/reports?limit=20 (reference)", v1reports.ms, 300);
      line("  host page, changes only", hostChanges.ms, "/v1/hosts/:name/reports?limit=20", v1reports.ms, 300);
      console.log(`  CSV export of all 5 000: p95 ${pct(csv.ms, 95).toFixed(1)} ms, ${(csv.bytes / 1024).toFixed(0)} KiB`);
      console.log(`  list page bytes: ${list.bytes} raw, ${sent.bytes} as sent (${sent.encoding}); /v1/hosts: ${v1list.bytes} bytes for all hosts (${Math.round(v1list.bytes / HOSTS * 50)} per 50)`);

      // Live: 10 pages listening; each report's event timed from just before its POST.
      const controllers: AbortController[] = [];
      const waiting = new Map<number, { start: number; left: number; done: () => void }>();
      const latencies: number[] = [];
      const seenIds: number[] = [];
      await Promise.all(
        Array.from({ length: LIVE_CLIENTS }, async () => {
          const ac = new AbortController();
          controllers.push(ac);
          const r = await fetch(`${base}/events?view=hosts&q=`, { headers: page, signal: ac.signal });
          const reader = r.body!.getReader();
          const decoder = new TextDecoder();
          let buf = "";
          void (async () => {
            for (;;) {
              const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
              if (done) return;
              buf += decoder.decode(value, { stream: true });
              let at: number;
              while ((at = buf.indexOf("\n\n")) >= 0) {
                const chunk = buf.slice(0, at);
                buf = buf.slice(at + 2);
                const id = /^id: (\d+)$/m.exec(chunk)?.[1];
                const host = /"host":"([^"]+)"/.exec(chunk)?.[1];
                if (!id || !host) continue;
                const w = waiting.get(Number(host.slice(4)));
                if (!w) continue;
                latencies.push(performance.now() - w.start);
                if (--w.left === 0) w.done();
              }
            }
          })();
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const posts: number[] = [];
      for (let k = 0; k < LIVE_ROUNDS; k++) {
        const i = (k * 37) % HOSTS;
        const h = hosts[i]!;
        const delivered = new Promise<void>((done) => waiting.set(i, { start: performance.now(), left: LIVE_CLIENTS, done }));
        const t = performance.now();
        const r = await fetch(`${base}/v1/hosts/${h.name}/reports`, { method: "POST", headers: { authorization: `Bearer ${h.token}`, "content-type": "application/json" }, body: JSON.stringify({ generation: null, release: { channel: "stable", number: 1 }, result: "switched", startedAt: iso(Date.now()), finishedAt: iso(Date.now()) }) });
        seenIds.push(((await r.json()) as { id: number }).id);
        posts.push(performance.now() - t);
        await Promise.race([delivered, new Promise((r) => setTimeout(r, 5000))]);
        waiting.delete(i);
      }
      for (const ac of controllers) ac.abort();
      const missing = LIVE_ROUNDS * LIVE_CLIENTS - latencies.length;
      console.log(`  live update, ${LIVE_CLIENTS} open list pages, ${LIVE_ROUNDS} reports: p50 ${pct(latencies, 50).toFixed(1)} ms, p95 ${pct(latencies, 95).toFixed(1)} ms (target < 2000 ms), ${missing} not delivered within 5 s; the report's POST round trip (reference): p95 ${pct(posts, 95).toFixed(1)} ms; ratio ${(pct(latencies, 95) / pct(posts, 95)).toFixed(2)}×`);
      const met = pct(list.ms, 95) < 100 && pct(filtered.ms, 95) < 100 && pct(hostPage.ms, 95) < 300 && pct(latencies, 95) < 2000 && missing === 0;
      console.log(`  ${met ? "targets met" : "TARGETS MISSED"}`);
    } finally {
      await stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDashboard();
