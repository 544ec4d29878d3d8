import { createHash } from "node:crypto";
import net from "node:net";
import { CongruentError } from "../errors.js";
import { parseJson } from "../generation/json-source.js";
import { dir, file } from "../store/tree.js";
import { checkSetting, type Component, type LiveContext, type RecordedSetting, type RenderContext, type SettingSpec } from "./component.js";
import { findProgram, programIdentity } from "./program.js";

export const CONFIG_FILE = "memcached.json";

const README = `Congruent integration point for memcached
=========================================

memcached has no configuration file of its own; Congruent reads one JSON object from
memcached.json in this directory, e.g.:

    {
      "memory": 256,
      "connections": 2048,
      "port": 11211,
      "listen": "127.0.0.1",
      "threads": 4,
      "max_item_size": "2m"
    }

Every key is optional (defaults: memory 64 MB, connections 1024, port 11211, listen 127.0.0.1,
threads 4, max_item_size 1m; and, as memcached's own, reqs_per_event 20 (-R), cas true (false:
-C), evictions true (false: -M, errors when memory is full), verbosity 0 (1-3: -v to -vvv)); a
value here wins over the host description's settings.memcached.
An unknown key, a wrong type or a value out of range stops the build with this file's name and
line, and the running memcached is not touched.

memcached cannot change anything while it runs: every change restarts it, and the plan says so
("memory: 64 → 256 (restart)"). A restart empties the cache. Other files in this directory are
ignored. This README is a link managed by Congruent; editing it has no effect.
`;

const SIZE = /^(\d+)([kKmM]?)$/;

/** "1m" → 1048576, "512k" → 524288, "2048" → 2048 (bytes), as memcached reads -I. */
export function sizeBytes(value: string): number | undefined {
  const m = SIZE.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === "" ? 1 : /k/i.test(m[2]!) ? 1024 : 1024 * 1024);
}

const SETTINGS: Record<string, SettingSpec> = {
  memory: { type: "integer", default: 64, min: 1, max: 1_048_576, change: "restart", description: "item memory in megabytes (-m)" },
  connections: { type: "integer", default: 1024, min: 4, max: 1_048_576, change: "restart", description: "simultaneous connections (-c)" },
  port: { type: "integer", default: 11211, min: 1, max: 65535, change: "restart", description: "TCP port (-p); UDP is off" },
  listen: {
    type: "string", default: "127.0.0.1", change: "restart", description: "address to listen on (-l)",
    check: (v) => (net.isIP(String(v)) ? undefined : "expected an IP address such as 127.0.0.1 or ::1"),
  },
  threads: { type: "integer", default: 4, min: 1, max: 64, change: "restart", description: "worker threads (-t)" },
  max_item_size: {
    type: "string", default: "1m", change: "restart", description: "largest item (-I), e.g. 512k, 1m, 16m (1k to 1024m)",
    check: (v) => {
      const bytes = sizeBytes(String(v));
      if (bytes === undefined) return "expected a size such as 512k, 1m or 16m";
      if (bytes < 1024 || bytes > 1024 * 1024 * 1024) return "must be between 1k and 1024m";
      return undefined;
    },
  },
  // Below: options few hosts set; recorded and passed only when they differ from memcached's default.
  reqs_per_event: { type: "integer", default: 20, min: 1, max: 10_000, change: "restart", description: "requests one connection may make before others get a turn (-R)" },
  cas: { type: "boolean", default: true, change: "restart", description: "compare-and-swap (false: -C, no CAS values, 8 bytes less per item)" },
  evictions: { type: "boolean", default: true, change: "restart", description: "evict old items when memory is full (false: -M, errors instead)" },
  verbosity: { type: "integer", default: 0, min: 0, max: 3, change: "restart", description: "log detail (1: -v, 2: -vv, 3: -vvv)" },
};

/** The settings every generation records; the rest only where a host sets them (no restart on upgrade). */
const ALWAYS = ["memory", "connections", "port", "listen", "threads", "max_item_size"];

type Values = Record<string, number | string | boolean>;


/**
 * The effective settings: defaults, then `settings.memcached` of the host, then memcached.json.
 * Every problem names the file and line it stands on.
 */
export function effective(ctx: Pick<RenderContext, "settings" | "local" | "settingSource">): Values {
  const values: Values = { ...ctx.settings };
  const where: Record<string, string> = Object.fromEntries(Object.keys(values).map((k) => [k, ctx.settingSource(k)]));
  const local = ctx.local.find((f) => f.name === CONFIG_FILE);
  if (local) {
    const doc = parseJson(local.path, local.contents.toString("utf8"), "E_LOCAL_INVALID");
    const at = (key?: string) => {
      const line = key === undefined ? undefined : doc.lineOf(key);
      return `${local.path}${line ? `:${line}` : ""}`;
    };
    const v = doc.value;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new CongruentError("E_LOCAL_INVALID", `${at()}: expected one JSON object, e.g. {"memory": 128}`);
    for (const [key, value] of Object.entries(v)) {
      const spec = SETTINGS[key];
      if (!spec) throw new CongruentError("E_LOCAL_INVALID", `${at(key)}: unknown key "${key}" (known: ${Object.keys(SETTINGS).join(", ")})`);
      const problem = checkSetting(spec, value);
      if (problem) throw new CongruentError("E_LOCAL_INVALID", `${at(key)}: ${key}: ${problem}`);
      values[key] = value as number | string;
      where[key] = at(key);
    }
  }
  const tooBig = itemSizeProblem(values);
  if (tooBig) {
    const code = where.max_item_size?.includes(CONFIG_FILE) ? "E_LOCAL_INVALID" : "E_HOST_INVALID";
    throw new CongruentError(code, `${where.max_item_size}: max_item_size ${tooBig.message}`);
  }
  return values;
}

/** memcached refuses an item size above half its memory; say so before it does. */
function itemSizeProblem(values: Values): { setting: string; message: string } | undefined {
  if (values.memory === undefined || values.max_item_size === undefined) return undefined;
  if (sizeBytes(String(values.max_item_size))! <= (Number(values.memory) * 1024 * 1024) / 2) return undefined;
  return { setting: "max_item_size", message: `${values.max_item_size} is more than half of memory (${values.memory} MB); memcached refuses that` };
}

/** memcached's argv: foreground, no UDP; the supervisor runs it as user memcache. */
export function commandLine(binary: string, v: Values): string[] {
  const argv = [binary, "-m", String(v.memory), "-c", String(v.connections), "-p", String(v.port), "-l", String(v.listen), "-t", String(v.threads), "-I", String(v.max_item_size), "-U", "0"];
  if (v.reqs_per_event !== undefined && v.reqs_per_event !== SETTINGS.reqs_per_event!.default) argv.push("-R", String(v.reqs_per_event));
  if (v.cas === false) argv.push("-C");
  if (v.evictions === false) argv.push("-M");
  if (typeof v.verbosity === "number" && v.verbosity > 0) argv.push(`-${"v".repeat(v.verbosity)}`);
  return argv;
}

/** `version\r\n` over TCP; resolves with the version memcached answers. */
export function memcachedVersion(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let answer = "";
    let settled = false;
    const done = (error?: Error, version?: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(version!);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no answer to "version" from ${host}:${port} within ${timeoutMs} ms`)));
    socket.on("connect", () => socket.write("version\r\n"));
    socket.on("data", (d) => {
      answer += d;
      if (!answer.includes("\r\n")) return;
      const m = /^VERSION (\S+)\r\n/.exec(answer);
      done(m ? undefined : new Error(`"version" answered ${JSON.stringify(answer.trim())}`), m?.[1]);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => done(new Error(`connect ${error.code ?? error.message} ${host}:${port}`)));
    // Something else on the port (not memcached) may accept and hang up without a word.
    socket.on("close", () => done(new Error(`${host}:${port} closed the connection without answering "version"`)));
  });
}

/** Where the health probe connects: the listen address, or loopback for a wildcard. */
function probeAddress(live: LiveContext): { host: string; port: number } {
  const listen = String(live.meta.settings.listen?.value ?? "127.0.0.1");
  const host = listen === "0.0.0.0" ? "127.0.0.1" : listen === "::" ? "::1" : listen;
  return { host, port: Number(live.meta.settings.port?.value ?? 11211) };
}

/** memcached as a host's cache: settings from /etc/local/memcached/memcached.json; every change restarts. */
export const memcached: Component = {
  name: "memcached",
  description: "memcached object cache; memory, connections, port, … from /etc/local/memcached/memcached.json (every change restarts)",
  settings: SETTINGS,
  checkSettings: itemSizeProblem,
  integrationPoint: { accepts: (name) => name === CONFIG_FILE, readme: README },
  restartLoses: "the cache is emptied (memcached keeps items only in memory)",

  async render(ctx) {
    const binary = findProgram("memcached", process.env.CONGRUENT_MEMCACHED, "memcached");
    const values = effective(ctx);
    const settings: Record<string, RecordedSetting> = {};
    for (const [key, spec] of Object.entries(SETTINGS)) {
      if (ALWAYS.includes(key) || (values[key] !== undefined && values[key] !== spec.default)) settings[key] = { value: values[key] ?? spec.default, change: "restart", default: spec.default };
    }
    return {
      // The effective settings, for people reading the generation; memcached reads its argv.
      tree: dir({ [CONFIG_FILE]: file(JSON.stringify(Object.fromEntries(Object.keys(settings).map((k) => [k, values[k] ?? SETTINGS[k]!.default])), null, 2) + "\n") }),
      settings,
      // The file's effect is in the settings above; a change that changes no value needs nothing.
      inputs: Object.fromEntries(ctx.local.map((f) => [`file:${f.name}`, { label: f.name, hash: createHash("sha256").update(f.contents).digest("hex"), change: "none" as const }])),
      program: programIdentity(binary, ["-V"], (out) => out.match(/memcached (\S+)/)?.[1]),
      service: { name: "memcached", command: commandLine(binary, values), user: "memcache", stopSignal: "TERM", writablePaths: [] },
    };
  },

  async validate() {
    // memcached has no configuration check; effective() checked every value against its ranges.
    return [];
  },

  async health(live) {
    // Activation adds memcached's own words from its log ("failed to listen on …") on failure.
    const { host, port } = probeAddress(live);
    await memcachedVersion(host, port);
  },
};
