import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { LegacyRoot } from "../legacy-root.js";
import type { Probe } from "./requests.js";
import { startStubs, type StubSpec } from "./stubs.js";

/**
 * The part of the behavioural verify that runs inside a sandbox (its own network, mount and PID
 * namespaces): start the upstream stubs, start one host's servers (the legacy ones from the legacy
 * view, or `congruent switch` in the new-host view), send every request, ask every server for its
 * settings, stop everything, and print what it saw as one JSON line. It reads its job from stdin and
 * ends (and the namespace with it: nothing outlives it) as soon as stdin closes.
 */
export interface ServiceStart {
  name: string;
  argv: string[];
  /** Ready once these accept connections (TCP) or exist (Unix sockets). */
  ready: { tcp?: [string, number][]; sockets?: string[] };
  stopSignal: NodeJS.Signals;
}

export interface SettingsProbe {
  postgresql?: { host: string; port: number };
  /** `password`, or `@file` to read it from a file once the server runs. */
  redis?: { socket: string; password: string };
  memcached?: { host: string; port: number };
}

export interface RunnerJob {
  /**
   * The view's root: every socket path of the job is a host path resolved in it, symlinks
   * followed inside the view (a legacy /var/run -> /run must never reach this host's /run).
   */
  root: string;
  /** Directories the view shares with this host, at the same paths (not resolved in the view). */
  shared: string[];
  stubs: StubSpec[];
  /** Header and parameter names the configuration fills from per-request variables: echoed as "varies". */
  volatile: string[];
  services: ServiceStart[];
  /** Commands run to the end before the requests (congruent switch), and after them (congruent down). */
  before: { name: string; argv: string[] }[];
  after: { name: string; argv: string[] }[];
  probes: Probe[];
  settings: SettingsProbe;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  bodySha256: string;
  bodyBytes: number;
  /** The start of the body, for people reading a difference. */
  body: string;
  tlsCertificate?: string;
  error?: string;
}

export interface RunnerResult {
  startup: { name: string; ok: boolean; error?: string }[];
  answers: Answer[];
  settings: { postgresql?: Record<string, string>; redis?: Record<string, string>; memcached?: Record<string, string> };
  errors: string[];
}

const progress = (text: string) => process.stderr.write(`progress: ${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(argv: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (e) => resolve({ code: 127, output: `${output}${e.message}` }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

async function start(s: ServiceStart): Promise<{ child: ChildProcess; error?: string }> {
  const child = spawn(s.argv[0]!, s.argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let exited: number | null | undefined;
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  child.on("exit", (code) => (exited = code));
  child.on("error", (e) => ((output += e.message), (exited = 127)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const tcp = await Promise.all((s.ready.tcp ?? []).map(([h, p]) => connects(h, p)));
    if (tcp.every(Boolean) && (s.ready.sockets ?? []).every((p) => existsSync(p))) return { child };
    if (exited !== undefined && exited !== 0) return { child, error: `${s.name} exited (${exited}): ${tail(output)}` };
    if (Date.now() > deadline) return { child, error: `${s.name} did not listen within 20 s: ${tail(output)}` };
    await sleep(20);
  }
}

const tail = (text: string) => text.trim().split("\n").filter(Boolean).slice(-3).join(" | ").slice(0, 600);

/** One request on a connection of its own, from a client address of its own (rate limits, allow/deny see the same client on both hosts). */
function ask(p: Probe, index: number): Promise<Answer> {
  return new Promise((resolve) => {
    const tls = p.endpoint.tls;
    const v6 = p.endpoint.host.includes(":");
    const options: https.RequestOptions = {
      method: p.method,
      path: p.path,
      headers: { host: p.name, connection: p.headers.connection ?? "keep-alive", ...p.headers, ...(p.body ? { "content-length": Buffer.byteLength(p.body) } : {}) },
      agent: false,
      timeout: 10_000,
      ...(p.endpoint.socket ? { socketPath: p.endpoint.socket } : { host: p.endpoint.host, port: p.endpoint.port, ...(v6 ? {} : { localAddress: `127.2.${(index >> 8) & 255}.${(index & 255) + 1 > 254 ? 254 : (index & 255) + 1}` }) }),
      ...(tls ? { rejectUnauthorized: false, servername: net.isIP(p.name) ? undefined : p.name.replace(/:\d+$/, "") } : {}),
    };
    const req = (tls ? https : http).request(options, (res) => {
      // Read now: once the answer has ended, the socket is gone from the response.
      const cert = tls ? (res.socket as TLSSocket | null)?.getPeerCertificate?.()?.fingerprint256 : undefined;
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const k = res.rawHeaders[i]!.toLowerCase();
          headers[k] = headers[k] === undefined ? res.rawHeaders[i + 1]! : `${headers[k]}, ${res.rawHeaders[i + 1]}`;
        }
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers, bodySha256: createHash("sha256").update(body).digest("hex"), bodyBytes: body.length, body: body.subarray(0, 300).toString("latin1"), ...(cert ? { tlsCertificate: cert } : {}) });
      });
      res.on("error", (e) => resolve({ status: 0, headers: {}, bodySha256: "", bodyBytes: 0, body: "", error: e.message }));
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ status: 0, headers: {}, bodySha256: "", bodyBytes: 0, body: "", error: e.code ?? e.message }));
    req.end(p.body);
  });
}

async function postgresSettings(at: { host: string; port: number }): Promise<Record<string, string>> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ host: at.host, port: at.port, user: "postgres", database: "postgres", connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const rows = (await client.query("SELECT name, setting, unit FROM pg_settings ORDER BY name")).rows as { name: string; setting: string; unit: string | null }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]));
  } finally {
    await client.end();
  }
}

async function redisSettings(at: { socket: string; password: string }): Promise<Record<string, string>> {
  const { Redis } = await import("ioredis");
  // "@file": the password is in that file (the platform writes it at the first start).
  const password = at.password.startsWith("@") ? readFileSync(at.password.slice(1), "utf8").trim() : at.password;
  const redis = new Redis({ path: at.socket, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 5000 });
  redis.on("error", () => {});
  await redis.connect();
  try {
    const flat = (await redis.call("CONFIG", "GET", "*")) as string[];
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
    return out;
  } finally {
    redis.disconnect();
  }
}

function memcachedSettings(at: { host: string; port: number }): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const s = net.connect(at);
    let text = "";
    s.setTimeout(5000, () => s.destroy(new Error("no answer to stats settings")));
    s.on("connect", () => s.write("stats settings\r\n"));
    s.on("data", (d) => {
      text += d;
      if (!text.includes("END\r\n")) return;
      s.destroy();
      resolve(Object.fromEntries(text.split("\r\n").filter((l) => l.startsWith("STAT ")).map((l) => l.slice(5).split(" ")).map(([k, ...v]) => [k!, v.join(" ")])));
    });
    s.on("error", reject);
  });
}

// A Unix socket's path must fit sun_path (108 bytes); one deep in a view often does not. Clients
// reach such a socket through a short symlink to its directory.
let shortDir: string | undefined;
let links = 0;
function short(p: string, isDir = false): string {
  if (p.length < 100) return p;
  shortDir ??= mkdtempSync("/tmp/cv-");
  const link = path.join(shortDir, String(links++));
  symlinkSync(isDir ? p : path.dirname(p), link);
  return isDir ? link : path.join(link, path.basename(p));
}

/** The job with its socket paths resolved in the view (which is mounted by now). */
function resolved(job: RunnerJob): RunnerJob {
  const view = new LegacyRoot(job.root);
  // Paths in directories the view shares with this host (the state directory) are the same outside.
  const at = (p: string) => (job.shared.some((d) => p === d || p.startsWith(`${d}/`)) ? p : view.real(p));
  const s = job.settings;
  return {
    ...job,
    stubs: job.stubs.map((x) => (x.socket ? { ...x, socket: at(x.socket) } : x)),
    services: job.services.map((x) => ({ ...x, ready: { ...x.ready, sockets: (x.ready.sockets ?? []).map(at) } })),
    probes: job.probes.map((p) => (p.endpoint.socket ? { ...p, endpoint: { ...p.endpoint, socket: short(at(p.endpoint.socket)) } } : p)),
    settings: {
      ...(s.postgresql ? { postgresql: { ...s.postgresql, host: short(at(s.postgresql.host), true) } } : {}),
      ...(s.redis ? { redis: { socket: short(at(s.redis.socket)), password: s.redis.password.startsWith("@") ? `@${at(s.redis.password.slice(1))}` : s.redis.password } } : {}),
      ...(s.memcached ? { memcached: s.memcached } : {}),
    },
  };
}

async function main(unresolved: RunnerJob): Promise<RunnerResult> {
  const job = resolved(unresolved);
  const result: RunnerResult = { startup: [], answers: [], settings: {}, errors: [] };
  const servers = await startStubs(job.stubs, job.volatile);
  const children: { child: ChildProcess; s: ServiceStart }[] = [];
  try {
    for (const b of job.before) {
      progress(b.name);
      const r = await run(b.argv);
      result.startup.push(r.code === 0 ? { name: b.name, ok: true } : { name: b.name, ok: false, error: tail(r.output.replace(/^congruent: /m, "")) });
    }
    for (const s of job.services) {
      progress(`starting ${s.name}`);
      const { child, error } = await start(s);
      children.push({ child, s });
      result.startup.push(error ? { name: s.name, ok: false, error } : { name: s.name, ok: true });
    }
    progress(`sending ${job.probes.length} requests`);
    for (const [i, p] of job.probes.entries()) result.answers.push(await ask(p, i));
    const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (error) {
        result.errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    };
    progress("reading settings");
    if (job.settings.postgresql) result.settings.postgresql = await attempt("postgresql settings", () => postgresSettings(job.settings.postgresql!));
    if (job.settings.redis) result.settings.redis = await attempt("redis settings", () => redisSettings(job.settings.redis!));
    if (job.settings.memcached) result.settings.memcached = await attempt("memcached settings", () => memcachedSettings(job.settings.memcached!));
  } finally {
    progress("stopping");
    for (const a of job.after) await run(a.argv);
    // Stopped by PID, gracefully first; the namespace ends whatever is left when this process does.
    for (const { child, s } of children.reverse()) {
      if (child.exitCode !== null || child.pid === undefined) continue;
      child.kill(s.stopSignal);
      for (let t = 0; t < 100 && child.exitCode === null && child.signalCode === null; t++) await sleep(20);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    for (const server of servers) server.close();
    if (shortDir) rmSync(shortDir, { recursive: true, force: true });
  }
  return result;
}

// Entry point: the job is the first line of stdin; stdin closing early ends everything.
if (process.argv[1] && /runner\.(js|ts)$/.test(process.argv[1])) {
  let input = "";
  let started = false;
  process.stdin.on("data", (d) => {
    input += d;
    const nl = input.indexOf("\n");
    if (started || nl < 0) return;
    started = true;
    main(JSON.parse(input.slice(0, nl)) as RunnerJob).then(
      (r) => process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0)),
      (e) => {
        process.stderr.write(`runner: ${e instanceof Error ? e.stack : String(e)}\n`);
        process.exit(1);
      },
    );
  });
  process.stdin.on("end", () => process.exit(started ? 0 : 1));
}
