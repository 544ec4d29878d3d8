import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { sha256 } from "../src/directory/http.js";
import type { Storage } from "../src/directory/storage.js";
import { startPostgres } from "../test/support/postgres.js";
import { freePort, percentile } from "./measure.js";

const HOSTS = 5_000;
/** The agents' timer: one run (a poll and a report) per host every 10 minutes. */
const TIMER_S = 600;
const FLEET_RATE_S = 12;
const CAPACITY_S = 10;
const CONCURRENCY = 32;
const CLI = path.resolve(import.meta.dirname, "../dist/cli/main.js");

interface Agent {
  name: string;
  token: string;
  etag: string;
}

/** What an agent reports after an unchanged run (the size of a real one: three services, durations). */
const report = (name: string) =>
  JSON.stringify({
    generation: `/var/lib/congruent/store/${sha256(name).slice(0, 32)}-system-${name}`,
    release: { channel: "stable", number: 1 },
    result: "unchanged",
    plan: [],
    deferred: [],
    durations: { fetch: 3, total: 41 },
    services: ["nginx", "postgresql", "redis"].map((s, i) => ({ name: s, state: "running", pid: 1000 + i })),
    warnings: [],
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
  });

/** 5 000 hosts in one channel with a promoted release, written straight into the storage. */
async function seed(storage: Storage, agents: Agent[]): Promise<void> {
  const now = new Date().toISOString();
  await storage.createResourceGroup({ name: "bench", createdAt: now });
  await storage.createChannel({ name: "stable", canaryShare: 10, createdAt: now, current: 1, previous: null, rolledBack: false, rollout: null });
  await storage.createRelease("stable", { version: "bench", defaults: { webgateway: { nginx: { worker_processes: 4, gzip: true } } } }, now);
  await storage.createHosts(agents.map((a) => ({ host: { name: a.name, resourceGroup: "bench", roles: ["webgateway"], parameters: { fqdn: `${a.name}.bench.example` }, settings: {}, channel: "stable", createdAt: now, updatedAt: now }, tokenHash: sha256(a.token) })));
  await storage.close();
}

/** A server process on a port; its memory is read from /proc. */
interface Server {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(argv: string[], port: number, ready: () => Promise<boolean>): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, argv, { stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; !(await ready()); i++) {
    if (child.exitCode !== null || i > 600) throw new Error(`${argv.slice(0, 3).join(" ")}… did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const answers = (port: number) => () => new Promise<boolean>((resolve) => http.get({ host: "127.0.0.1", port, path: "/v1/health" }, (res) => (res.resume(), resolve(res.statusCode === 200))).on("error", () => resolve(false)));

async function directory(db: string, adminFile: string): Promise<Server> {
  const port = await freePort();
  return startServer([CLI, "directory", "serve", "--db", db, "--listen", `127.0.0.1:${port}`, "--admin-token-file", adminFile, "--log-level", "warn"], port, answers(port));
}

/** The reference: a bare node:http server answering a poll with an empty 304 and a report with a 201. */
async function bare(): Promise<Server> {
  const port = await freePort();
  const source = `require("http").createServer((q, s) => { if (q.url === "/v1/health") return s.end("{}"); q.resume(); q.on("end", () => { if (q.method === "GET") { s.statusCode = 304; s.setHeader("etag", '"x"'); s.end(); } else { s.statusCode = 201; s.end('{"id":1}'); } }); }).listen(${port}, "127.0.0.1")`;
  return startServer(["-e", source], port, answers(port));
}

/** The bare server under the same closed loop, right after a target: the machine as it is now. */
async function referenceLoad(): Promise<Load> {
  const server = await bare();
  try {
    const agents = Array.from({ length: HOSTS }, (_, i) => ({ name: `web${i}`, token: "x", etag: '"x"' }));
    return await asFastAsPossible([server.port], agents, CAPACITY_S);
  } finally {
    await server.stop();
  }
}

/** Resident and peak memory of a process, MiB (VmRSS, VmHWM). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) / 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(port: number, method: string, urlPath: string, headers: Record<string, string>, body?: string): Promise<{ status: number; etag?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: urlPath, agent: keepAlive, headers: body === undefined ? headers : { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Latencies (ms) and statuses of one kind of request. */
class Sample {
  readonly ms: number[] = [];
  readonly statuses = new Map<number, number>();
  add(ms: number, status: number): void {
    this.ms.push(ms);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
  p99(): number {
    return percentile(this.ms, 99);
  }
}

interface Load {
  polls: Sample;
  reports: Sample;
  seconds: number;
}

/** One agent run: a conditional poll of its description, then its report. */
async function agentRun(port: number, a: Agent, load: Load): Promise<void> {
  const auth = { authorization: `Bearer ${a.token}` };
  let t = performance.now();
  const poll = await request(port, "GET", `/v1/hosts/${a.name}/config`, { ...auth, "if-none-match": a.etag });
  load.polls.add(performance.now() - t, poll.status);
  t = performance.now();
  const posted = await request(port, "POST", `/v1/hosts/${a.name}/reports`, auth, report(a.name));
  load.reports.add(performance.now() - t, posted.status);
}

/** The agents as their timers run them: `rate` runs a second, evenly spread (open loop). */
async function atRate(ports: number[], agents: Agent[], rate: number, seconds: number): Promise<Load> {
  const load: Load = { polls: new Sample(), reports: new Sample(), seconds };
  const started = performance.now();
  const runs: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const due = started + (i / rate) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    runs.push(agentRun(ports[i % ports.length]!, agents[i % agents.length]!, load));
  }
  await Promise.all(runs);
  return load;
}

/** The same runs as fast as the server answers them, CONCURRENCY at a time (closed loop). */
async function asFastAsPossible(ports: number[], agents: Agent[], seconds: number): Promise<Load> {
  const load: Load = { polls: new Sample(), reports: new Sample(), seconds };
  const end = performance.now() + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, c) => {
      while (performance.now() < end) await agentRun(ports[c % ports.length]!, agents[next++ % agents.length]!, load);
    }),
  );
  return load;
}

/** Every agent's first poll (a 200 with its description's ETag), as after its first run. */
async function prime(port: number, agents: Agent[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let a = agents[next++]; a; a = agents[next++]) {
        const r = await request(port, "GET", `/v1/hosts/${a.name}/config`, { authorization: `Bearer ${a.token}` });
        if (r.status !== 200 || !r.etag) throw new Error(`first poll of ${a.name}: HTTP ${r.status}`);
        a.etag = r.etag;
      }
    }),
  );
}

const perSecond = (s: Sample, load: Load) => s.ms.length / load.seconds;
const statuses = (s: Sample) => [...s.statuses].map(([k, n]) => `${n}×${k}`).join(" ");

function print(label: string, servers: Server[], fleet: Load, capacity: Load, reference: Load): void {
  const mem = servers.map((s) => memory(s.pid));
  const runs = perSecond(capacity.polls, capacity);
  const refRuns = perSecond(reference.polls, reference);
  console.log(`${label}:`);
  console.log(`  at the fleet's rate (${HOSTS} agents, a run every ${TIMER_S / 60} min: ${(HOSTS / TIMER_S).toFixed(1)} polls/s and reports/s, ${FLEET_RATE_S} s): poll p99 ${fleet.polls.p99().toFixed(1)} ms, report p99 ${fleet.reports.p99().toFixed(1)} ms (polls ${statuses(fleet.polls)}; reports ${statuses(fleet.reports)})`);
  console.log(`  as fast as it answers (${CONCURRENCY} agents at a time, ${CAPACITY_S} s): ${runs.toFixed(0)} polls/s and ${perSecond(capacity.reports, capacity).toFixed(0)} reports/s, poll p99 ${capacity.polls.p99().toFixed(1)} ms, report p99 ${capacity.reports.p99().toFixed(1)} ms (polls ${statuses(capacity.polls)}; reports ${statuses(capacity.reports)})`);
  console.log(`  against a bare node:http server answering the same runs right after: ${(runs / refRuns).toFixed(2)}× its runs/s (${refRuns.toFixed(0)}), its report p99 ${reference.reports.p99().toFixed(1)} ms`);
  console.log(`  memory: ${mem.map((m) => `${m.rss.toFixed(0)} MiB resident (peak ${m.peak.toFixed(0)})`).join(" + ")}; runs/s × ${TIMER_S} s: ${Math.floor((runs * TIMER_S) / 1000)} thousand hosts at a ${TIMER_S / 60}-minute timer, by the request rate alone`);
}

/**
 * `npm run bench -- fleet`: 5 000 simulated agents, each run a conditional poll (a 304) and a
 * report, as the agent's timer makes them, against the directory on SQLite, on PostgreSQL, and
 * as two processes on one PostgreSQL (the agents split between them); first at the fleet's own
 * rate (a run per host every 10 minutes), then as fast as the directory answers. Each is put
 * against a bare node:http server answering the same requests, measured in the same run.
 */
export async function benchFleet(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-fleet-"));
  const pg = await startPostgres();
  try {
    const adminFile = path.join(dir, "admin.token");
    writeFileSync(adminFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    const agents = (): Agent[] => Array.from({ length: HOSTS }, (_, i) => ({ name: `web${i}`, token: `cgt_${randomBytes(32).toString("base64url")}`, etag: "" }));
    const { openStorage } = await import("../src/directory/storage/index.js");

    const targets: { label: string; db: string; processes: number }[] = [
      { label: "one directory on SQLite", db: `sqlite:${path.join(dir, "directory.db")}`, processes: 1 },
      { label: "one directory on PostgreSQL", db: await pg.createDatabase("one"), processes: 1 },
      { label: "two directory processes on one PostgreSQL", db: await pg.createDatabase("two"), processes: 2 },
    ];
    for (const target of targets) {
      const fleet = agents();
      await seed(await openStorage(target.db), fleet);
      const servers: Server[] = [];
      for (let i = 0; i < target.processes; i++) servers.push(await directory(target.db, adminFile));
      try {
        const ports = servers.map((s) => s.port);
        await prime(ports[0]!, fleet);
        const atFleetRate = await atRate(ports, fleet, HOSTS / TIMER_S, FLEET_RATE_S);
        const capacity = await asFastAsPossible(ports, fleet, CAPACITY_S);
        print(target.label, servers, atFleetRate, capacity, await referenceLoad());
      } finally {
        for (const s of servers) await s.stop();
      }
    }
  } finally {
    keepAlive.destroy();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
