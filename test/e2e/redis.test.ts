import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { cli, cliJson, freePort, tempDir, writeHost, writeSnippet, type SwitchOut, type StatusOut, servicePid } from "../helpers.js";

/** Every file under `dir` (the store: world-readable by design). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** A Redis host's life: start, runtime CONFIG SET, restart for an immutable directive, bad snippet, the password. */
describe("redis through the integration point", () => {
  const root = tempDir();
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  let port = 0;
  let hostFile = "";
  const args = () => ["--host", hostFile, "--local", local, "--state", state];
  const redisPid = () => servicePid(state, "redis");
  const secret = () => readFileSync(path.join(state, "secrets", "redis.password"), "utf8").trim();
  const clients: Redis[] = [];
  /** A TCP client, as a customer's application connects (authenticated unless told otherwise). */
  const connect = (auth = true) => {
    const c = new Redis({ host: "127.0.0.1", port, password: auth ? secret() : undefined, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on("error", () => {});
    clients.push(c);
    return c;
  };
  const configGet = async (name: string) => {
    const c = connect();
    await c.connect();
    return ((await c.call("CONFIG", "GET", name)) as string[])[1];
  };

  beforeAll(async () => {
    // Redis runs as user redis and reads its file through the state directory.
    chmodSync(root, 0o755);
    port = await freePort();
    hostFile = writeHost(root, { name: "cache1", roles: ["redis"], settings: { redis: { port } } });
    writeSnippet(local, "redis", "cache.conf", "maxmemory 100mb\nsave 900 1\n");
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await cli(["down", "--state", state]);
  });

  it("starts Redis with a password from <state>/secrets: NOAUTH without it", async () => {
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan).toMatchObject([{ service: "redis", action: "start" }]);
    const stat = statSync(path.join(state, "secrets", "redis.password"));
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.uid).toBe(0);
    const anonymous = connect(false);
    await anonymous.connect();
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
    const c = connect();
    await c.connect();
    expect(await c.ping()).toBe("PONG");
    await c.set("customer:1", "alice");
    await c.set("customer:2", "bob");
    expect(await configGet("maxmemory")).toBe(String(100 * 1024 * 1024));
  });

  it("never puts the password into the store", () => {
    const password = secret();
    expect(password.length).toBeGreaterThanOrEqual(32);
    const files = filesUnder(path.join(state, "store"));
    expect(files.some((f) => f.endsWith("redis.conf"))).toBe(true);
    for (const f of files) expect(readFileSync(f, "utf8").includes(password), f).toBe(false);
  });

  it("plans maxmemory as a runtime change, and --dry-run changes nothing", async () => {
    writeSnippet(local, "redis", "cache.conf", "maxmemory 200mb\nsave 900 1\n");
    const dry = await cliJson<SwitchOut>(["switch", ...args(), "--dry-run"]);
    expect(dry.result).toBe("dry-run");
    expect(dry.plan).toMatchObject([{ service: "redis", action: "runtime", why: ["maxmemory: 100mb → 200mb (runtime)"] }]);
    expect(await configGet("maxmemory")).toBe("104857600");
  });

  it("applies maxmemory with CONFIG SET: same PID, new value live and in the file, keys kept", async () => {
    const pid = await redisPid();
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.result).toBe("switched");
    expect(out.plan).toMatchObject([{ service: "redis", action: "runtime", why: ["maxmemory: 100mb → 200mb (runtime)"] }]);
    expect(await redisPid()).toBe(pid);
    expect(await configGet("maxmemory")).toBe("209715200");
    const c = connect();
    await c.connect();
    expect(await c.mget("customer:1", "customer:2")).toEqual(["alice", "bob"]);
    // A later restart reads the same value from the generation's file.
    expect(readFileSync(path.join(out.plan[0]!.to!, "redis.conf"), "utf8")).toMatch(/^maxmemory 200mb$/m);
  });

  it("a removed directive goes back to Redis's default at runtime", async () => {
    writeSnippet(local, "redis", "cache.conf", "save 900 1\nmaxmemory-policy allkeys-lru\n");
    const pid = await redisPid();
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan[0]).toMatchObject({ action: "runtime" });
    expect(out.plan[0]!.why).toEqual(expect.arrayContaining(["maxmemory: 200mb → 0 (default) (runtime)", "maxmemory-policy: noeviction (default) → allkeys-lru (runtime)"]));
    expect(await redisPid()).toBe(pid);
    expect(await configGet("maxmemory")).toBe("0");
    expect(await configGet("maxmemory-policy")).toBe("allkeys-lru");
  });

  it("finds nothing to do when nothing changed", async () => {
    const pid = await redisPid();
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.result).toBe("unchanged");
    expect(out.plan.map((p) => p.action)).toEqual(["none"]);
    expect(await redisPid()).toBe(pid);
  });

  it("restarts for a directive CONFIG SET refuses; the keys survive through the dump", async () => {
    writeSnippet(local, "redis", "cache.conf", "save 900 1\nmaxmemory-policy allkeys-lru\ndatabases 32\nmaxmemory 300mb\n");
    const pid = await redisPid();
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    // Mixed classes: one restart, and the why names both.
    expect(out.plan).toMatchObject([{ service: "redis", action: "restart" }]);
    expect(out.plan[0]!.why).toEqual(expect.arrayContaining(["databases: 16 (default) → 32 (restart)", "maxmemory: 0 (default) → 300mb (runtime)"]));
    const after = await redisPid();
    expect(after).toBeTruthy();
    expect(after).not.toBe(pid);
    expect(existsSync(path.join(state, "data", "redis", "dump.rdb"))).toBe(true);
    expect(await configGet("databases")).toBe("32");
    expect(await configGet("maxmemory")).toBe("314572800");
    const c = connect();
    await c.connect();
    expect(await c.mget("customer:1", "customer:2")).toEqual(["alice", "bob"]);
  });

  it("a killed Redis is started again by the supervisor, with its password and its keys from the dump", async () => {
    const pid = (await redisPid())!;
    process.kill(pid, "SIGKILL");
    let next: number | null | undefined;
    for (let i = 0; i < 100 && (!next || next === pid); i++) {
      await new Promise((r) => setTimeout(r, 50));
      next = await redisPid();
    }
    expect(next).toBeTruthy();
    expect(next).not.toBe(pid);
    const c = connect();
    let pong = "";
    for (let i = 0; i < 50 && pong !== "PONG"; i++) {
      pong = await c.connect().then(() => c.ping(), () => "");
      if (pong !== "PONG") await new Promise((r) => setTimeout(r, 50));
    }
    expect(pong).toBe("PONG");
    // Saved when the restart above stopped Redis with SIGTERM.
    expect(await c.mget("customer:1", "customer:2")).toEqual(["alice", "bob"]);
  });

  it("rejects a directive Redis refuses, naming file and line; the running server is untouched", async () => {
    const active = (await cliJson<StatusOut>(["status", "--state", state])).generation;
    const pid = await redisPid();
    const bad = writeSnippet(local, "redis", "zz-bad.conf", "# tuning\nmaxmemory 1gb\nmaxmemory-polcy allkeys-lru\n");
    const r = await cli(["switch", ...args()]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${bad}:3: Bad directive or wrong number of arguments: 'maxmemory-polcy allkeys-lru'`);
    expect((await cliJson<StatusOut>(["status", "--state", state])).generation).toBe(active);
    expect(await redisPid()).toBe(pid);
    expect(await configGet("maxmemory")).toBe("314572800");
    const owned = writeSnippet(local, "redis", "zz-bad.conf", "requirepass guessme\n");
    const r2 = await cli(["switch", ...args()]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`${owned}:1: "requirepass" is set by the platform`);
    writeSnippet(local, "redis", "zz-bad.conf", "# nothing yet\n");
  });

  it("a snippet may disable a command (rename-command FLUSHALL \"\"): one restart, then runtime changes still work", async () => {
    writeSnippet(local, "redis", "zz-harden.conf", 'rename-command FLUSHALL ""\nrename-command KEYS ""\n');
    const pid = await redisPid();
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan).toMatchObject([{ service: "redis", action: "restart" }]);
    expect(out.plan[0]!.why.join(" ")).toMatch(/rename-command: .*FLUSHALL.*\(restart\)/);
    expect(await redisPid()).not.toBe(pid);
    const c = connect();
    await c.connect();
    await expect(c.call("FLUSHALL")).rejects.toThrow(/unknown command/);
    expect(await c.mget("customer:1", "customer:2")).toEqual(["alice", "bob"]);
    // CONFIG is the platform's: a maxmemory change is still applied at runtime.
    writeSnippet(local, "redis", "cache.conf", "save 900 1\nmaxmemory-policy allkeys-lru\ndatabases 32\nmaxmemory 310mb\n");
    const running = await redisPid();
    const runtime = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(runtime.plan).toMatchObject([{ service: "redis", action: "runtime" }]);
    expect(await redisPid()).toBe(running);
    expect(await configGet("maxmemory")).toBe(String(310 * 1024 * 1024));
    // Renaming a command the platform sends itself is refused, naming file and line.
    const bad = writeSnippet(local, "redis", "zz-harden.conf", 'rename-command FLUSHALL ""\nrename-command CONFIG "CONFIG_b9f2"\n');
    const refused = await cli(["switch", ...args()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${bad}:2: "rename-command CONFIG": the platform sends CONFIG itself`);
    expect(await redisPid()).toBe(running);
  });
});
