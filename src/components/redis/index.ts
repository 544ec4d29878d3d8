import { createHash, randomBytes } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Redis } from "ioredis";
import { CongruentError } from "../../errors.js";
import { dir, file } from "../../store/tree.js";
import type { ChangeClass, Component, LiveContext, RecordedSetting, RenderContext, TrackedInput } from "../component.js";
import { scratchDir } from "../../generation/scratch.js";
import { findProgram, programIdentity } from "../program.js";
import { asUser, userIds } from "../support/server-user.js";
import { quote, splitArgs } from "./syntax.js";
import { derivedFromFileAsync, derivedFromTextAsync } from "../../generation/derived-cache.js";

const README = `Congruent integration point for Redis
=====================================

Files named *.conf in this directory hold redis.conf directives, one per line, e.g. cache.conf:

    maxmemory 256mb
    maxmemory-policy allkeys-lru
    save 900 1
    save 300 10

They are pasted, in name order, after the settings of the host description (settings.redis) into
the redis.conf Congruent builds for this host; as in any redis.conf, the last line for a
directive wins.

On the next build (the agent runs it on a timer, or \`congruent switch\`):
  * the whole file is read by the installed redis-server itself before anything changes; a
    line it rejects stops the build with this file's name and line, and the running Redis is
    not touched;
  * a changed directive that Redis lets CONFIG SET change is applied to the running server at
    once (no restart, no lost keys) and is in the new redis.conf too, so a later restart keeps
    it; a directive Redis only reads at start (databases, io-threads, appendfilename, ...)
    restarts Redis, which saves its dataset on the way down (if save points are set) and loads
    it again.

The platform owns: daemonize, supervised, pidfile, dir, logfile, include, unixsocket,
unixsocketperm, requirepass, masterauth, user, aclfile. A file that sets one of them is
rejected. rename-command works for every command but CONFIG, AUTH, HELLO and PING, which the
platform sends itself (rename-command FLUSHALL "" disables FLUSHALL; a change restarts Redis). The password is in <state>/secrets/redis.password on the host (never in the
world-readable store). Files not ending in .conf are ignored. This README is a link managed by
Congruent; editing it has no effect.
`;

/** Directives the platform sets itself, each with the reason; a snippet or host setting naming one is an error. */
export const OWNED: Readonly<Record<string, string>> = {
  daemonize: "the supervisor runs redis-server in the foreground",
  supervised: "the supervisor runs redis-server in the foreground",
  pidfile: "the supervisor tracks the server",
  dir: "the dataset lives in <state>/data/redis",
  logfile: "the supervisor collects the log",
  include: "snippets are included by the platform's redis.conf",
  unixsocket: "the platform puts the socket in its runtime directory",
  unixsocketperm: "the platform puts the socket in its runtime directory",
  requirepass: "the password is <state>/secrets/redis.password, never in the store",
  masterauth: "a secret: it belongs under <state>/secrets/, never in the store",
  // ACL users could switch off the password the platform (and its health check) relies on.
  user: "ACL users could switch off the password the platform relies on",
  aclfile: "ACL users could switch off the password the platform relies on",
};

/**
 * Commands the platform itself sends (CONFIG for runtime changes and validation, AUTH and HELLO
 * on connecting, PING for health): a snippet may rename or disable any other command
 * (`rename-command FLUSHALL ""`, the usual hardening), not these.
 */
export const PLATFORM_COMMANDS: readonly string[] = ["CONFIG", "AUTH", "HELLO", "PING"];

/** What is wrong with a `rename-command` line's arguments, if anything. */
export function renameProblem(args: readonly string[]): string | undefined {
  if (args.length !== 2) return `"rename-command" takes a command and its new name ("" disables it)`;
  const command = args[0]!.toUpperCase();
  if (PLATFORM_COMMANDS.includes(command)) return `"rename-command ${command}": the platform sends ${command} itself and needs it under its own name (not renamable: ${PLATFORM_COMMANDS.join(", ")})`;
  return undefined;
}

/**
 * Parameters whose value is taken from the customer's text, not from the validation run, with
 * Redis's documented default: the run overrides the ports (it must never bind a real one), and
 * Redis lowers maxclients to what the process's file limit allows, which differs between the
 * build and the service (the generation must not depend on who built it).
 */
const OVERRIDDEN: Record<string, string> = { port: "6379", "tls-port": "0", maxclients: "10000" };

const SOCKET = "redis.sock";
const AUTH_FILE = "auth.conf";
const PASSWORD_FILE = "redis.password";
const USER = "redis";

/** Where a line of the generated redis.conf came from, for messages. */
export interface Origin {
  /** `host.json:7 (settings.redis.maxmemory)` or a snippet's path. */
  file: string;
  line?: number;
  fromHost: boolean;
}

/** A directive as written in a snippet or the host description. */
export interface Directive {
  name: string;
  args: string[];
  origin: Origin;
}

export interface ComposedConfig {
  /** The redis.conf the service reads. */
  text: string;
  /** The same lines with the password include commented out: what the validation run reads. */
  checkText: string;
  /** Origin of each line (index = line - 1), undefined for platform lines. */
  origins: (Origin | undefined)[];
  /** Customer directives in file order (host settings first, then snippets by name). */
  directives: Directive[];
}

function fail(origin: Origin, message: string): never {
  throw new CongruentError(origin.fromHost ? "E_HOST_INVALID" : "E_LOCAL_INVALID", `${origin.file}${origin.line ? `:${origin.line}` : ""}: ${message}`);
}

function settingText(value: number | string | boolean): string {
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return String(value);
  return value === "" ? '""' : value;
}

/**
 * What is wrong with `settings.redis.<key>` as a redis.conf line, as far as it can be told
 * without redis-server (its name's syntax, a directive the platform owns, one line, balanced
 * quotes): the host schema asks this wherever a description is written.
 */
export function hostDirectiveProblem(key: string, value: number | string | boolean): string | undefined {
  const name = key.toLowerCase();
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) return "not a redis.conf directive name";
  if (name in OWNED) return `"${name}" is set by the platform and cannot be changed here (owned: ${Object.keys(OWNED).join(", ")})`;
  const text = settingText(value);
  if (/[\r\n\0]/.test(text)) return "a value must be one line";
  const args = splitArgs(text);
  if (!args) return "unbalanced quotes in the value";
  if (name === "rename-command") return renameProblem(args);
  return undefined;
}

/**
 * The redis.conf of a host: platform lines, then `settings.redis` (one directive each, the value
 * written as given so `"save": "900 1 300 10"` works), then every snippet's lines in name order,
 * then the include of the password file. Each line's origin is kept for error messages.
 */
export function composeConfig(ctx: RenderContext): ComposedConfig {
  const lines: string[] = [];
  const origins: (Origin | undefined)[] = [];
  const directives: Directive[] = [];
  const platform = (line: string) => {
    lines.push(line);
    origins.push(undefined);
  };
  const owned = (name: string, origin: Origin) => {
    if (name in OWNED) fail(origin, `"${name}" is set by the platform and cannot be changed here (owned: ${Object.keys(OWNED).join(", ")})`);
  };
  platform(`# Generated by Congruent for host ${ctx.hostName}. Do not edit: change the host description`);
  platform("# (settings.redis) or add *.conf files to the redis integration point (/etc/local/redis/).");
  platform("daemonize no");
  platform("supervised no");
  platform('logfile ""');
  // The validation run gets a scratch dir instead (the data directory is made at first start).
  const dirLine = lines.length;
  platform(`dir ${quote(ctx.dataDir)}`);
  platform(`unixsocket ${quote(path.join(ctx.runtimeDir, SOCKET))}`);
  platform("unixsocketperm 700");
  platform("# settings.redis of the host description");
  for (const [key, value] of Object.entries(ctx.settings)) {
    const origin: Origin = { file: ctx.settingSource(key), fromHost: true };
    const problem = hostDirectiveProblem(key, value);
    if (problem) fail(origin, problem);
    const name = key.toLowerCase();
    const text = settingText(value);
    const args = splitArgs(text)!;
    lines.push(`${name} ${text}`);
    origins.push(origin);
    directives.push({ name, args, origin });
  }
  for (const f of ctx.local) {
    platform(`# ${f.name}`);
    f.contents.toString("utf8").replace(/\n$/, "").split("\n").forEach((raw, index) => {
      const origin: Origin = { file: f.path, line: index + 1, fromHost: false };
      const trimmed = raw.trim();
      lines.push(raw.replace(/\r$/, ""));
      origins.push(origin);
      if (trimmed === "" || trimmed.startsWith("#")) return;
      const args = splitArgs(trimmed);
      if (!args) fail(origin, "unbalanced quotes in configuration line");
      if (args.length === 0) return;
      const name = args.shift()!.toLowerCase();
      owned(name, origin);
      const rename = name === "rename-command" ? renameProblem(args) : undefined;
      if (rename) fail(origin, rename);
      directives.push({ name, args, origin });
    });
  }
  platform("# The password, from <state>/secrets/ (written at each start; never in the store).");
  const include = `include ${quote(path.join(ctx.runtimeDir, AUTH_FILE))}`;
  const check = [...lines, "# (password include: added at start)"];
  check[dirLine] = "# (dir: the data directory)";
  const checkText = check.join("\n") + "\n";
  platform(include);
  return { text: lines.join("\n") + "\n", checkText, origins, directives };
}

/** What the installed redis-server says about its parameters: defaults and which CONFIG SET refuses. */
export interface Catalogue {
  /** Every parameter CONFIG GET * lists, with the value of a server started without a file. */
  defaults: ReadonlyMap<string, string>;
  /** Parameters CONFIG SET refuses (immutable or protected): a change needs a restart. */
  restart: ReadonlySet<string>;
  /** Parameters that take a memory value (`100mb`): plans show them in units, not bytes. */
  memory: ReadonlySet<string>;
}

const UNITS: Record<string, bigint> = { "": 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000_000n, mb: 1024n ** 2n, g: 1000_000_000n, gb: 1024n ** 3n };

/** A memory value as Redis reads it (memtoull: `1k` = 1000, `1kb` = 1024), in bytes. */
export function memoryBytes(value: string): bigint | undefined {
  const m = /^(\d+)(b|kb?|mb?|gb?)?$/i.exec(value.trim());
  return m ? BigInt(m[1]!) * UNITS[(m[2] ?? "").toLowerCase()]! : undefined;
}

/** Bytes in the largest binary unit that divides them exactly: 104857600 → `100mb`. */
export function memoryText(bytes: string): string {
  if (!/^\d+$/.test(bytes) || bytes === "0") return bytes;
  const n = BigInt(bytes);
  for (const unit of ["gb", "mb", "kb"]) if (n % UNITS[unit]! === 0n) return `${n / UNITS[unit]!}${unit}`;
  return bytes;
}

/** Old names Redis still accepts (slave → replica, ziplist → listpack), folded onto the current one. */
export function canonicalName(name: string, catalogue: Catalogue): string {
  const current = name.replaceAll("slave", "replica").replaceAll("ziplist", "listpack");
  return current !== name && catalogue.defaults.has(current) ? current : name;
}

async function client(socketPath: string, password?: string): Promise<Redis> {
  // Loaded on first use: every CLI run loads the registry, and ioredis costs ~20 ms to load.
  const { Redis } = await import("ioredis");
  const redis = new Redis({
    path: socketPath,
    password,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
    commandTimeout: 5000,
    enableReadyCheck: false,
  });
  // Errors reach the caller through the rejected command; no unhandled 'error' event.
  redis.on("error", () => {});
  return redis;
}

/** CONFIG GET * as a map (Redis answers a flat name, value, name, value list). */
async function configGetAll(redis: Redis): Promise<Map<string, string>> {
  const flat = (await redis.call("CONFIG", "GET", "*")) as string[];
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!, flat[i + 1]!);
  return out;
}

interface Throwaway {
  redis: Redis;
  stop(): void;
}

/**
 * Start redis-server in a scratch directory, listening only on a Unix socket there, and connect.
 * Rejects with everything the server printed when it exits instead (a rejected config file).
 */
async function throwaway(binary: string, args: string[], scratch: string): Promise<Throwaway> {
  const sock = path.join(scratch, "check.sock");
  // Under coreutils' timeout, in a process group of its own: if this process is killed before
  // it stops the server (an agent's watchdog), the server still ends within a minute.
  const argv = [binary, ...args, "--port", "0", "--tls-port", "0", "--unixsocket", sock, "--dir", scratch];
  const child = spawn("timeout", ["-s", "KILL", "60", ...argv], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  // "close": the process has exited and everything it printed has been read.
  const exited = new Promise<void>((resolve) => {
    child.once("close", () => resolve());
    child.once("error", (error) => {
      output += `cannot run timeout(1) ${binary}: ${error.message}`;
      resolve();
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = () => {
    if (gone || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const deadline = Date.now() + 10_000;
  try {
    for (;;) {
      if (gone) throw new ThrowawayExit(output);
      if (existsSync(sock)) {
        const redis = await client(sock);
        try {
          await redis.connect();
          return { redis, stop: () => (redis.disconnect(), stop()) };
        } catch {
          redis.disconnect();
        }
      }
      if (Date.now() > deadline) throw new Error(`${binary} did not open ${sock} within 10 s: ${output.trim().split("\n").at(-1) ?? ""}`);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5))]);
    }
  } catch (error) {
    stop();
    throw error;
  }
}

class ThrowawayExit extends Error {
  constructor(readonly output: string) {
    super(output);
  }
}

async function inScratch<T>(fn: (scratch: string) => Promise<T>): Promise<T> {
  const scratch = scratchDir("redis-");
  try {
    return await fn(scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const catalogues = new Map<string, Promise<Catalogue>>();

/**
 * Ask the installed Redis: start one without a config file, read CONFIG GET * (the defaults),
 * then CONFIG SET every parameter to its own value and note which it refuses ("can't set
 * immutable config", "can't set protected config"). So the classes follow the binary that will
 * run, not a table that can go stale. Memoised per binary content; about 40 ms.
 */
export function catalogue(binary: string, sha256: string): Promise<Catalogue> {
  const key = `${binary}:${sha256}`;
  let hit = catalogues.get(key);
  if (!hit) {
    hit = derivedFromFileAsync("redis-catalogue", binary, async () => toJson(await probeCatalogue(binary))).then(fromJson);
    hit.catch(() => catalogues.delete(key));
    catalogues.set(key, hit);
  }
  return hit;
}

interface CatalogueJson {
  defaults: [string, string][];
  restart: string[];
  memory: string[];
}
const toJson = (c: Catalogue): CatalogueJson => ({ defaults: [...c.defaults], restart: [...c.restart], memory: [...c.memory] });
const fromJson = (j: CatalogueJson): Catalogue => ({ defaults: new Map(j.defaults), restart: new Set(j.restart), memory: new Set(j.memory) });

function probeCatalogue(binary: string): Promise<Catalogue> {
  return inScratch(async (scratch) => {
    const server = await throwaway(binary, [], scratch);
    try {
      const defaults = await configGetAll(server.redis);
      const pipeline = server.redis.pipeline();
      const names = [...defaults.keys()];
      for (const name of names) pipeline.call("CONFIG", "SET", name, defaults.get(name)!);
      const results = (await pipeline.exec()) ?? [];
      const restart = new Set(names.filter((_, i) => results[i]?.[0]));
      // A number that also reads with a unit ("0b", the same value: no effect) is a memory value.
      const numeric = names.filter((n) => !restart.has(n) && /^\d+$/.test(defaults.get(n)!));
      const units = server.redis.pipeline();
      for (const name of numeric) units.call("CONFIG", "SET", name, `${defaults.get(name)}b`);
      const unitResults = (await units.exec()) ?? [];
      const memory = new Set(numeric.filter((_, i) => !unitResults[i]?.[0]));
      for (const [name, value] of Object.entries(OVERRIDDEN)) defaults.set(name, value);
      return { defaults, restart, memory };
    } finally {
      server.stop();
    }
  });
}

/** `*** FATAL CONFIG FILE ERROR ***` output → the line and what Redis said. */
export function parseFatal(output: string): { line: number; text: string; reason: string } | undefined {
  const m = output.match(/at line (\d+)\r?\n>>> '(.*)'\r?\n(.*)/);
  return m ? { line: Number(m[1]), text: m[2]!, reason: m[3]!.trim() } : undefined;
}

/**
 * Run the composed file through the installed redis-server (its own parser, its own checks)
 * and return the effective values (CONFIG GET *). A line it rejects is an error naming the
 * customer's file and line.
 */
async function load(binary: string, composed: ComposedConfig): Promise<Map<string, string>> {
  return inScratch(async (scratch) => {
    const conf = path.join(scratch, "redis.conf");
    writeFileSync(conf, composed.checkText);
    let server: Throwaway;
    try {
      server = await throwaway(binary, [conf], scratch);
    } catch (error) {
      if (!(error instanceof ThrowawayExit)) throw error;
      const fatal = parseFatal(error.output);
      const origin = fatal ? composed.origins[fatal.line - 1] : undefined;
      if (fatal && origin) fail(origin, `${fatal.reason}: '${fatal.text}' (redis-server)`);
      const said = error.output
        .trim()
        .split("\n")
        .filter((l) => l.trim() !== "" && !/^\*\*\*/.test(l))
        // "27473:M 25 Nov 2026 10:11:38.962 # Module x failed to load" → "Module x failed to load"
        .map((l) => l.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] /, ""))
        .slice(-2)
        .join("; ")
        .replaceAll(scratch, "<check>");
      throw new CongruentError("E_LOCAL_INVALID", `redis.conf (generated from settings.redis and /etc/local/redis/*.conf): redis-server refused to start: ${said}`);
    }
    try {
      return await configGetAll(server.redis);
    } finally {
      server.stop();
    }
  });
}

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** The settings a generation records: each directive the host or a snippet names, with Redis's class and default. */
export function recordSettings(composed: ComposedConfig, loaded: ReadonlyMap<string, string>, cat: Catalogue): Record<string, RecordedSetting> {
  const settings: Record<string, RecordedSetting> = {};
  const other = new Map<string, string[]>();
  for (const d of composed.directives) {
    const name = canonicalName(d.name, cat);
    if (name in OVERRIDDEN) {
      settings[name] = { value: d.args.join(" "), change: cat.restart.has(name) ? "restart" : "runtime", default: cat.defaults.get(name)! };
    } else if (cat.defaults.has(name)) {
      const change: ChangeClass = cat.restart.has(name) ? "restart" : "runtime";
      const shown = (v: string) => (cat.memory.has(name) ? memoryText(v) : v);
      settings[name] = { value: shown(loaded.get(name) ?? d.args.join(" ")), change, default: shown(cat.defaults.get(name)!) };
    } else {
      // Not a parameter (loadmodule, …): Redis reads it only at start; every line counts.
      other.set(name, [...(other.get(name) ?? []), d.args.join(" ")]);
    }
  }
  for (const [name, values] of other) settings[name] = { value: values.join("; "), change: "restart" };
  return Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)));
}

/** The password from `<state>/secrets/redis.password`; generated once (random, 0600) when absent. */
export function password(secretsDir: string, create: boolean): string {
  const file = path.join(secretsDir, PASSWORD_FILE);
  if (create && !existsSync(file)) {
    mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CongruentError("E_SERVICE", `redis: cannot read the password ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const value = text.replace(/\r?\n$/, "");
  if (value === "" || /[\r\n\0]/.test(value)) throw new CongruentError("E_SERVICE", `redis: ${file} must hold the password on one line`);
  return value;
}

/** A connection to the live server over its Unix socket, authenticated. */
function liveClient(live: LiveContext): Promise<Redis> {
  return client(path.join(live.runtimeDir, SOCKET), password(live.secretsDir, false));
}

async function withLive<T>(live: LiveContext, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = await liveClient(live);
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Redis as a per-host cache or store; customers add redis.conf directives under /etc/local/redis/. */
export const redis: Component = {
  name: "redis",
  description: "Redis key-value store; redis.conf directives from /etc/local/redis/*.conf, applied at runtime (CONFIG SET) where Redis allows it",
  settings: {
    port: { type: "integer", default: 6379, min: 0, max: 65535, change: "runtime", description: "TCP port (0: Unix socket only)" },
    bind: {
      type: "string", default: "127.0.0.1", change: "runtime", description: "addresses to listen on, separated by blanks",
      check: (v) => (/^[0-9A-Za-z.:*!\- ]+$/.test(String(v)) ? undefined : "expected addresses separated by blanks, e.g. 127.0.0.1 ::1"),
    },
  },
  openSettings: true,
  checkOpenSetting: hostDirectiveProblem,
  integrationPoint: { accepts: (name) => name.endsWith(".conf"), readme: README },

  async render(ctx) {
    const binary = findProgram("redis-server", process.env.CONGRUENT_REDIS, "redis-server");
    const program = programIdentity(binary, ["--version"], (out) => out.match(/v=(\S+)/)?.[1]);
    const composed = composeConfig(ctx);
    // Both servers must be gone before an error ends the process: settle both, then report.
    // What Redis makes of this exact file is a pure function of the file and the binary: an
    // unchanged host (the agent's common case) starts no throwaway server.
    const loading = derivedFromTextAsync("redis-load", `${program.sha256}\0${composed.checkText}`, async () => [...(await load(binary, composed))]).then((entries) => new Map(entries));
    const [catResult, loadResult] = await Promise.allSettled([catalogue(binary, program.sha256), loading]);
    if (loadResult.status === "rejected") throw loadResult.reason;
    if (catResult.status === "rejected") throw catResult.reason;
    const [cat, loaded] = [catResult.value, loadResult.value];
    const inputs: Record<string, TrackedInput> = {};
    // A snippet's effect is in the settings (each with its class); an edit that changes no
    // directive's value (a comment) needs nothing from the running server.
    for (const f of ctx.local) inputs[`snippet:${f.name}`] = { label: `snippet ${f.name}`, hash: sha(f.contents), change: "none" };
    const socket = path.join(ctx.runtimeDir, SOCKET);
    return {
      tree: dir({ "redis.conf": file(composed.text) }),
      settings: recordSettings(composed, loaded, cat),
      inputs,
      program,
      service: {
        name: "redis",
        command: [binary, `${ctx.configLink}/redis.conf`],
        user: USER,
        writablePaths: [ctx.dataDir, ctx.runtimeDir],
        // Redis saves its dataset on SIGTERM when save points are set, and loads it at start.
        stopSignal: "TERM",
        staleFiles: [socket],
      },
    };
  },

  async validate() {
    // render() already ran the whole file through redis-server: it needs the effective values.
    return [];
  },

  async prepare(live) {
    const { uid, gid } = userIds(USER);
    const secret = password(live.secretsDir, true);
    mkdirSync(live.runtimeDir, { recursive: true });
    chownSync(live.runtimeDir, uid, gid);
    chmodSync(live.runtimeDir, 0o750);
    // Redis reads the password from here, through the include at the end of its redis.conf.
    const auth = path.join(live.runtimeDir, AUTH_FILE);
    const temp = `${auth}.${process.pid}.tmp`;
    writeFileSync(temp, `requirepass ${quote(secret)}\n`, { mode: 0o600 });
    chownSync(temp, uid, gid);
    renameSync(temp, auth);
    // The dataset (dump.rdb, appendonlydir): created once, never emptied or replaced.
    mkdirSync(path.dirname(live.dataDir), { recursive: true });
    mkdirSync(live.dataDir, { recursive: true, mode: 0o750 });
    chownSync(live.dataDir, uid, gid);
    chmodSync(live.dataDir, 0o750);
    // Redis runs as its own user: it must reach its file through the state directory.
    const conf = live.meta.service.command[1]!;
    for (const [what, test, target] of [["read", "-r", conf], ["write to", "-w", live.dataDir]] as const) {
      const argv = asUser(USER, ["test", test, target]);
      if (spawnSync(argv[0]!, argv.slice(1)).status !== 0) {
        throw new CongruentError("E_SERVICE", `redis: user ${USER} cannot ${what} ${target}; every directory above it must be searchable by others (chmod o+x)`);
      }
    }
  },

  async health(live) {
    // Authenticated, over the Unix socket: never competes with customers' ports.
    const pong = await withLive(live, (redis) => redis.ping());
    if (pong !== "PONG") throw new Error(`PING answered ${JSON.stringify(pong)}`);
  },

  async applyRuntime(live, changes) {
    if (changes.length === 0) return;
    const cat = await catalogue(live.meta.program.path, live.meta.program.sha256);
    const wanted = changes.map((c) => {
      const value = c.to ?? cat.defaults.get(c.name);
      if (value === undefined) throw new Error(`no default known for ${c.name}`);
      return [c.name, String(value)] as const;
    });
    await withLive(live, async (r) => {
      // One CONFIG SET with every pair: Redis 7 applies all of them or none.
      try {
        await r.call("CONFIG", "SET", ...wanted.flat());
      } catch (error) {
        throw new Error(`CONFIG SET ${wanted.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(" ")}: ${message(error)}`);
      }
      for (const [name, value] of wanted) {
        const got = ((await r.call("CONFIG", "GET", name)) as string[])[1];
        const same = got === value || (cat.memory.has(name) && got !== undefined && memoryBytes(got) === memoryBytes(value));
        if (!same) throw new Error(`CONFIG GET ${name} answers ${JSON.stringify(got)} after CONFIG SET ${JSON.stringify(value)}`);
      }
    });
  },
};
