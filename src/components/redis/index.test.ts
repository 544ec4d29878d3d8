import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { LocalFile, RenderContext } from "../component.js";
import { canonicalName, catalogue, composeConfig, memoryBytes, memoryText, parseFatal, password, redis } from "./index.js";
import { splitArgs } from "./syntax.js";
import { findProgram, programIdentity } from "../program.js";

function context(local: Record<string, string>, settings: Record<string, number | string | boolean> = {}): RenderContext {
  const root = mkdtempSync(path.join(os.tmpdir(), "congruent-redis-unit-"));
  const files: LocalFile[] = Object.entries(local).map(([name, text]) => ({ name, path: `/etc/local/redis/${name}`, contents: Buffer.from(text) }));
  return {
    hostName: "cache1",
    parameters: {},
    settings: { port: 6379, bind: "127.0.0.1", ...settings },
    local: files,
    runtimeDir: path.join(root, "run", "redis"),
    logDir: path.join(root, "log", "redis"),
    configLink: path.join(root, "services", "redis", "current"),
    dataDir: path.join(root, "data", "redis"),
    roles: ["redis"],
    settingSource: (key) => `host.json:7 (settings.redis.${key})`,
  };
}

const binary = findProgram("redis-server", process.env.CONGRUENT_REDIS, "redis-server");
const identity = programIdentity(binary, ["--version"], (out) => out.match(/v=(\S+)/)?.[1]);

describe("redis.conf words", () => {
  it("splits like sdssplitargs", () => {
    expect(splitArgs("maxmemory 100mb")).toEqual(["maxmemory", "100mb"]);
    expect(splitArgs(`save "900 1"  '300 10'`)).toEqual(["save", "900 1", "300 10"]);
    expect(splitArgs(`notify-keyspace-events "K\\x45\\n"`)).toEqual(["notify-keyspace-events", "KE\n"]);
    expect(splitArgs(`x 'it\\'s'`)).toEqual(["x", "it's"]);
    expect(splitArgs(`save ""`)).toEqual(["save", ""]);
    expect(splitArgs(`x "open`)).toBeUndefined();
    expect(splitArgs(`x "a"b`)).toBeUndefined();
    expect(splitArgs("   ")).toEqual([]);
  });

  it("reads Redis's fatal config error", () => {
    const out = "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'bogus yes'\nBad directive or wrong number of arguments\n";
    expect(parseFatal(out)).toEqual({ line: 3, text: "bogus yes", reason: "Bad directive or wrong number of arguments" });
    expect(parseFatal("Could not create server TCP listening socket")).toBeUndefined();
  });
});

describe("composing redis.conf", () => {
  it("puts platform lines first, host settings, snippets in order, the password include last", () => {
    const ctx = context({ "a.conf": "maxmemory 100mb\n# comment\n", "b.conf": "maxmemory-policy allkeys-lru" }, { save: "900 1 300 10", appendonly: true });
    const c = composeConfig(ctx);
    const lines = c.text.trimEnd().split("\n");
    expect(lines).toContain("daemonize no");
    expect(lines).toContain(`dir "${ctx.dataDir}"`);
    expect(lines.at(-1)).toBe(`include "${ctx.runtimeDir}/auth.conf"`);
    expect(lines.indexOf("save 900 1 300 10")).toBeLessThan(lines.indexOf("maxmemory 100mb"));
    expect(lines.indexOf("maxmemory 100mb")).toBeLessThan(lines.indexOf("maxmemory-policy allkeys-lru"));
    expect(lines).toContain("appendonly yes");
    // Every customer line knows where it came from.
    expect(c.origins[lines.indexOf("maxmemory-policy allkeys-lru")]).toEqual({ file: "/etc/local/redis/b.conf", line: 1, fromHost: false });
    expect(c.origins[lines.indexOf("save 900 1 300 10")]).toMatchObject({ file: "host.json:7 (settings.redis.save)", fromHost: true });
    expect(c.directives.map((d) => d.name)).toEqual(["port", "bind", "save", "appendonly", "maxmemory", "maxmemory-policy"]);
    // The validation run reads the same lines without the password include and the data dir.
    expect(c.checkText.split("\n")).toHaveLength(c.text.split("\n").length);
    expect(c.checkText).not.toContain("auth.conf");
    expect(c.checkText).not.toContain(ctx.dataDir);
  });

  it("rejects what the platform owns, naming file and line", () => {
    expect(() => composeConfig(context({ "a.conf": "maxmemory 1mb\n  requirepass secret\n" }))).toThrow(/^\/etc\/local\/redis\/a\.conf:2: "requirepass" is set by the platform/);
    expect(() => composeConfig(context({ "a.conf": "DIR /tmp\n" }))).toThrow(/a\.conf:1: "dir" is set by the platform/);
    expect(() => composeConfig(context({ "a.conf": "rename-command FLUSHALL \"\"\nrename-command config \"CONFIG_x\"\n" }))).toThrow(/a\.conf:2: "rename-command CONFIG": the platform sends CONFIG itself/);
    expect(() => composeConfig(context({}, { "rename-command": "PING pong" }))).toThrow(/^host\.json:7 \(settings\.redis\.rename-command\): "rename-command PING"/);
    expect(() => composeConfig(context({}, { unixsocket: "/tmp/x.sock" }))).toThrow(/^host\.json:7 \(settings\.redis\.unixsocket\): "unixsocket" is set by the platform/);
    expect(() => composeConfig(context({}, { maxmemory: "1mb\nrequirepass x" }))).toThrow(/one line/);
    expect(() => composeConfig(context({ "a.conf": "x \"open\n" }))).toThrow(/a\.conf:1: unbalanced quotes/);
  });
});

describe("what the installed Redis says", () => {
  it("classifies from CONFIG SET itself: runtime unless Redis refuses", async () => {
    const cat = await catalogue(binary, identity.sha256);
    for (const name of ["maxmemory", "maxmemory-policy", "save", "port", "bind", "appendonly", "timeout", "hz"]) expect(cat.restart.has(name), name).toBe(false);
    for (const name of ["databases", "io-threads", "appendfilename", "daemonize", "unixsocket", "dir", "dbfilename", "cluster-enabled", "replicaof"]) expect(cat.restart.has(name), name).toBe(true);
    expect(cat.defaults.get("maxmemory")).toBe("0");
    expect(cat.defaults.get("databases")).toBe("16");
    expect(cat.defaults.get("port")).toBe("6379");
    for (const name of ["maxmemory", "client-query-buffer-limit", "repl-backlog-size", "proto-max-bulk-len"]) expect(cat.memory.has(name), name).toBe(true);
    for (const name of ["port", "databases", "timeout", "maxclients", "hz"]) expect(cat.memory.has(name), name).toBe(false);
    expect(canonicalName("slaveof", cat)).toBe("replicaof");
    expect(canonicalName("hash-max-ziplist-entries", cat)).toBe("hash-max-listpack-entries");
    expect(canonicalName("maxmemory", cat)).toBe("maxmemory");
  });

  it("renders the effective values as Redis normalises them, with class and default", async () => {
    const ctx = context({ "a.conf": "maxmemory 100mb\nsave 900 1\nsave 300 10\ndatabases 32\nhash-max-ziplist-entries 256\n" }, { port: 6380 });
    const r = await redis.render(ctx);
    expect(r.settings).toEqual({
      bind: { value: "127.0.0.1", change: "runtime", default: "* -::*" },
      databases: { value: "32", change: "restart", default: "16" },
      "hash-max-listpack-entries": { value: "256", change: "runtime", default: "512" },
      maxmemory: { value: "100mb", change: "runtime", default: "0" },
      port: { value: "6380", change: "runtime", default: "6379" },
      save: { value: "900 1 300 10", change: "runtime", default: "3600 1 300 100 60 10000" },
    });
    expect(r.service).toMatchObject({ name: "redis", command: [binary, `${ctx.configLink}/redis.conf`], user: "redis", stopSignal: "TERM" });
    expect(r.service.reloadSignal).toBeUndefined();
    expect(r.inputs["snippet:a.conf"]).toMatchObject({ label: "snippet a.conf", change: "none" });
  });

  it("the same value written another way is the same setting", async () => {
    const a = await redis.render(context({ "a.conf": "maxmemory 100mb\n" }));
    const b = await redis.render(context({ "a.conf": "maxmemory 102400kb\n" }));
    const c = await redis.render(context({ "a.conf": "maxmemory 104857600\n" }));
    expect(a.settings?.maxmemory).toEqual(b.settings?.maxmemory);
    expect(a.settings?.maxmemory).toEqual(c.settings?.maxmemory);
  });

  it("records maxclients as written: Redis would lower it to the builder's file limit", async () => {
    const r = await redis.render(context({ "a.conf": "maxclients 1000000\n" }));
    expect(r.settings?.maxclients).toEqual({ value: "1000000", change: "runtime", default: "10000" });
  });

  it("a line redis-server rejects names the customer's file and line", async () => {
    const ctx = context({ "a.conf": "maxmemory 1mb\n", "b.conf": "# cache\nmaxmemory-policy allkeys-lru\nmaxmemory lots\n" });
    await expect(redis.render(ctx)).rejects.toThrow(/^\/etc\/local\/redis\/b\.conf:3: argument must be a memory value: 'maxmemory lots' \(redis-server\)$/);
    await expect(redis.render(context({ "a.conf": "bogus-directive yes\n" }))).rejects.toThrow(/a\.conf:1: Bad directive or wrong number of arguments/);
    await expect(redis.render(context({ "a.conf": "loadmodule /nonexistent/module.so\n" }))).rejects.toThrow(/^redis\.conf \(generated from settings\.redis and \/etc\/local\/redis\/\*\.conf\): redis-server refused to start: Module \/nonexistent\/module\.so failed to load/);
    await expect(redis.render(context({}, { "maxmemory-policy": "sometimes" }))).rejects.toThrow(/^host\.json:7 \(settings\.redis\.maxmemory-policy\): argument\(s\) must be one of/);
  });

  it("is quick enough for every build", async () => {
    const ctx = context({ "a.conf": "maxmemory 100mb\n" });
    await redis.render(ctx);
    const start = performance.now();
    await redis.render(ctx);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("memory values", () => {
  it("reads units as Redis does and shows bytes in the largest exact binary unit", () => {
    expect(memoryBytes("100mb")).toBe(104857600n);
    expect(memoryBytes("1k")).toBe(1000n);
    expect(memoryBytes("1KB")).toBe(1024n);
    expect(memoryBytes("2gb")).toBe(2147483648n);
    expect(memoryBytes("12")).toBe(12n);
    expect(memoryBytes("lots")).toBeUndefined();
    expect(memoryText("104857600")).toBe("100mb");
    expect(memoryText("2147483648")).toBe("2gb");
    expect(memoryText("1536")).toBe("1536");
    expect(memoryText("3072")).toBe("3kb");
    expect(memoryText("1000000")).toBe("1000000");
    expect(memoryText("0")).toBe("0");
    expect(memoryText("10%")).toBe("10%");
  });
});

describe("the password", () => {
  it("is generated once, 0600, and read back the same", () => {
    const secrets = path.join(mkdtempSync(path.join(os.tmpdir(), "congruent-secrets-")), "secrets");
    const first = password(secrets, true);
    expect(first).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(statSync(path.join(secrets, "redis.password")).mode & 0o777).toBe(0o600);
    expect(statSync(secrets).mode & 0o777).toBe(0o700);
    expect(password(secrets, true)).toBe(first);
    expect(readFileSync(path.join(secrets, "redis.password"), "utf8")).toBe(`${first}\n`);
    expect(() => password(path.join(secrets, "none"), false)).toThrow(/cannot read the password/);
  });
});
