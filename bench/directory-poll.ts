import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import type { openSqliteStorage as OpenSqlite } from "../src/directory/storage/sqlite/index.js";
import { freePort, startDirectoryProcess } from "./measure.js";

const HOSTS = 5_000;
const DURATION_S = 10;
const CONNECTIONS = 32;
const dist = path.resolve(import.meta.dirname, "../dist/directory");
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * `npm run bench directory-poll`: 5 000 hosts in SQLite, one channel with a promoted release;
 * autocannon polls GET /v1/hosts/:name/config with each host's token and current ETag
 * (every answer a 304), rotating through the hosts. Targets: ≥ 2 000 polls/s, p99 < 50 ms.
 */
export async function benchDirectoryPoll(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-directory-"));
  const db = path.join(dir, "directory.db");
  const admin = "bench-admin-token";
  try {
    const { openSqliteStorage } = await import(path.join(dist, "storage/sqlite/index.js"));
    const storage = (openSqliteStorage as typeof OpenSqlite)(db);
    const now = new Date().toISOString();
    await storage.createResourceGroup({ name: "bench", createdAt: now });
    await storage.createChannel({ name: "stable", canaryShare: 10, createdAt: now, current: 1, previous: null, rolledBack: false, rollout: null });
    await storage.createRelease("stable", { version: "bench", defaults: { web: { nginx: { worker_processes: 4, gzip: true } } } }, now);
    const hosts = Array.from({ length: HOSTS }, (_, i) => ({ name: `web${i}`, token: `bench-token-${i}-${sha256(String(i)).slice(0, 16)}` }));
    await storage.createHosts(
      hosts.map((h) => ({
        host: { name: h.name, resourceGroup: "bench", roles: ["web"], parameters: { fqdn: `${h.name}.bench.example` }, settings: { nginx: { worker_connections: 1024 } }, channel: "stable", createdAt: now, updatedAt: now },
        tokenHash: sha256(h.token),
      })),
    );
    await storage.close();

    const port = await freePort();
    const stop = await startDirectoryProcess(db, port, sha256(admin));
    try {
      // Each agent has polled once and holds its ETag.
      const etags: string[] = [];
      const primeStart = performance.now();
      for (const h of hosts) {
        const r = await fetch(`http://127.0.0.1:${port}/v1/hosts/${h.name}/config`, { headers: { authorization: `Bearer ${h.token}` } });
        await r.arrayBuffer();
        etags.push(r.headers.get("etag")!);
      }
      const primeMs = performance.now() - primeStart;
      let next = 0;
      const poll = (target: number) => autocannon({
        url: `http://127.0.0.1:${target}`,
        connections: CONNECTIONS,
        duration: DURATION_S,
        requests: [
          {
            method: "GET",
            setupRequest: (req) => {
              const i = next++ % HOSTS;
              const h = hosts[i]!;
              return { ...req, path: `/v1/hosts/${h.name}/config`, headers: { authorization: `Bearer ${h.token}`, "if-none-match": etags[i]! } };
            },
          },
        ],
      });
      const result = await poll(port);
      // The reference: a bare node:http server in its own process that answers every request
      // with an empty 304, polled the same way in the same run — the ceiling of this machine.
      const refPort = await freePort();
      const bare = spawn(process.execPath, ["-e", `require("http").createServer((q, s) => { s.statusCode = 304; s.end(); }).listen(${refPort}, "127.0.0.1", () => console.log("up"))`], { stdio: ["ignore", "pipe", "ignore"] });
      await new Promise((r) => bare.stdout!.once("data", r));
      const reference = await poll(refPort);
      bare.kill();
      const total = result.requests.total;
      const notModified = (result as unknown as { "3xx"?: number })["3xx"] ?? 0;
      const polls = result.requests.average;
      const p99 = result.latency.p99;
      console.log(`directory poll, ${HOSTS} hosts, SQLite, ${CONNECTIONS} connections, ${DURATION_S} s: ${polls.toFixed(0)} polls/s (target ≥ 2000), p99 ${p99} ms (target < 50 ms)`);
      console.log(`  ${total} requests, ${notModified} answered 304, ${result.non2xx - notModified} other non-2xx, ${result.errors} errors, ${result.timeouts} timeouts; mean ${result.latency.average} ms, p50 ${result.latency.p50} ms`);
      console.log(`  bare node:http 304 server (reference): ${reference.requests.average.toFixed(0)} req/s, p99 ${reference.latency.p99} ms; directory/reference ratio ${(polls / reference.requests.average).toFixed(2)}×`);
      console.log(`  first polls (each renders and caches its host's config), one at a time: ${((HOSTS / primeMs) * 1000).toFixed(0)}/s`);
      console.log(`  ${polls >= 2000 && p99 < 50 ? "targets met" : "TARGETS MISSED"}`);
    } finally {
      await stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDirectoryPoll();
