import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { CLI, cli, cliJson, freePort, httpGet, tempDir, vhost, writeHost, writeSnippet, type StatusOut, type SwitchOut } from "../helpers.js";
import { memcachedSettings } from "../support/memcached.js";

/** Where a switch is killed: each named point of an activation (see src/activation/fault-point.ts), during the build, or at a random moment. */
const POINTS = ["after-journal", "after-link", "after-step-1", "after-step-2", "after-step-3", "after-flip", "build", "random"] as const;
/** Rounds over every point: 8 trials each. */
const ROUNDS = Number(process.env.CONGRUENT_FAULT_ROUNDS ?? 4);

/** Run the CLI and SIGKILL it when `when` resolves (or let it finish); the exit status as cli() gives it. */
function killedRun(args: string[], env: Record<string, string>, when: (pid: number) => Promise<void>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
    void when(child.pid!).then(() => child.kill("SIGKILL"));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * kill -9 at every step of a switch, many times, each followed by a plain switch: every trial
 * must end on the complete target generation, every service healthy and serving its new
 * configuration, and nothing of the killed run left behind.
 */
describe(`kill -9 during a switch: ${POINTS.length * ROUNDS} trials, each followed by a plain switch`, () => {
  const root = tempDir();
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  const ports = { web: 0, redis: 0, memcached: 0 };
  let redis: Redis;
  const args = () => ["--host", path.join(root, "host.json"), "--local", local, "--state", state, "--health-timeout", "10"];
  /** Inputs of trial `n`: every service changes (nginx reload, Redis runtime, memcached restart). */
  const version = (n: number) => {
    writeHost(root, { name: "fault1", roles: ["webgateway", "redis", "memcached"], settings: { redis: { port: ports.redis }, memcached: { port: ports.memcached, memory: 64 + n } } });
    writeSnippet(local, "nginx", "site.conf", vhost(ports.web, `v${n}`));
    writeSnippet(local, "redis", "cache.conf", `maxmemory ${10 + n}mb\n`);
  };
  /** Leftover scratch directories of killed builds, and the throwaway servers still running in them (ours: they name our state dir). */
  const scratch = () => (existsSync(path.join(state, "tmp")) ? readdirSync(path.join(state, "tmp")) : []);
  const endThrowaways = () => {
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      const cmd = (() => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "utf8");
        } catch {
          return "";
        }
      })();
      if (cmd.includes(`${state}/tmp/`)) process.kill(Number(pid), "SIGKILL");
    }
  };

  beforeAll(async () => {
    chmodSync(root, 0o755);
    ports.web = await freePort();
    ports.redis = await freePort();
    ports.memcached = await freePort();
    version(0);
    await cliJson<SwitchOut>(["switch", ...args()]);
    const password = readFileSync(path.join(state, "secrets", "redis.password"), "utf8").trim();
    redis = new Redis({ host: "127.0.0.1", port: ports.redis, password, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 1 });
    redis.on("error", () => {});
    await redis.connect();
  });

  afterAll(async () => {
    redis?.disconnect();
    endThrowaways();
    await cli(["down", "--state", state]);
  });

  const trials = Array.from({ length: POINTS.length * ROUNDS }, (_, i) => ({ n: i + 1, point: POINTS[i % POINTS.length]! }));
  it.each(trials)("trial $n: killed at $point, then a plain switch ends on the complete target", async ({ n, point }) => {
    version(n);
    let killed: { code: number; stderr: string };
    if (point === "build") {
      // Killed while redis-server checks the new file in a throwaway instance (its scratch
      // directory exists): the build is half-way, nothing activated yet.
      const before = new Set(scratch());
      killed = await killedRun(["switch", ...args()], {}, async () => {
        for (let i = 0; i < 400 && !scratch().some((d) => !before.has(d) && d.startsWith("redis-")); i++) await sleep(5);
      });
      expect(killed.code, killed.stderr).toBe(-1);
      expect(existsSync(path.join(state, "activation", "pending.json"))).toBe(false); // killed before activating
    } else if (point === "random") {
      const delay = 100 + Math.floor(Math.random() * 1500);
      killed = await killedRun(["switch", ...args()], {}, () => sleep(delay));
    } else {
      killed = await killedRun(["switch", ...args()], { CONGRUENT_FAULT_KILL_AT: point }, () => new Promise(() => {}));
      expect(killed.code, killed.stderr).toBe(-1); // SIGKILLed at the point, not finished
    }
    endThrowaways();

    const out = await cliJson<SwitchOut & { resumed?: { target: string; steps: unknown[] } }>(["switch", ...args()]);
    const target = (await cliJson<{ generation: string }>(["build", ...args().slice(0, 6)])).generation;
    expect(out.generation).toBe(target);
    if (["after-link", "after-step-1", "after-step-2", "after-flip"].includes(point)) {
      expect(out.resumed?.target).toBe(target);
      expect(out.result).toBe("switched");
    }
    // One complete generation: the profile, every service's configuration and its process.
    const status = await cliJson<StatusOut & { interrupted?: unknown }>(["status", "--state", state]);
    expect(status.generation).toBe(target);
    expect(status.interrupted).toBeUndefined();
    expect(status.services.map((s) => [s.name, s.state]).sort()).toEqual([["memcached", "running"], ["nginx", "running"], ["redis", "running"]]);
    expect(existsSync(path.join(state, "activation", "pending.json"))).toBe(false);
    expect((await httpGet(ports.web)).body).toBe(`v${n}\n`);
    expect(((await redis.call("CONFIG", "GET", "maxmemory")) as string[])[1]).toBe(String((10 + n) * 1024 * 1024));
    expect((await memcachedSettings(ports.memcached)).get("maxbytes")).toBe(String((64 + n) * 1024 * 1024));
    // Nothing of the killed run is left: no temp links, no scratch, no generation never active.
    expect(readdirSync(path.join(state, "profiles")).filter((f) => f.startsWith(".tmp-"))).toEqual([]);
    expect(scratch()).toEqual([]);
    const gens = await cliJson<{ path: string; current: boolean }[]>(["generations", "--state", state]);
    expect(gens.filter((g) => g.path === target)).toHaveLength(1);
  });
});
