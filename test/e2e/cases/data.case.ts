import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, writeHost, writeSnippet, type StatusOut, type SwitchOut } from "../../helpers.js";
import { cliJson, type Target } from "../../support/target.js";
import { eventually } from "./nginx.case.js";

const pidOf = async (t: Target, state: string, service: string) => (await cliJson<StatusOut>(t, ["status", "--state", state])).services.find((s) => s.name === service)?.pid ?? null;
const uidOf = async (t: Target, pid: number) => /^Uid:\s+(\d+)/m.exec(await t.probes.procStatus(pid))?.[1];
const idOf = (user: string) => readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${user}:`))!.split(":")[2];

/** One host for a case: its files (seen by the target at the same path) and its state directory there. */
function host(t: Target) {
  const root = t.tempDir();
  const state = t.stateDir();
  const local = path.join(root, "local");
  return { root, state, local, args: () => ["--host", path.join(root, "host.json"), "--local", local, "--state", state] };
}

/** PostgreSQL: the postmaster runs as postgres; a reloadable setting keeps it; a restart-only one replaces it. */
export function runPostgresqlCases(manager: string, target: () => Target): void {
  describe(`postgresql under ${manager}`, () => {
    let t: Target;
    let h: ReturnType<typeof host>;
    let port = 0;
    const connect = async () => {
      const client = new pg.Client({ host: t.path(path.join(h.state, "run", "postgresql")), port, user: "postgres", database: "postgres" });
      await client.connect();
      return client;
    };
    const show = async (name: string) => {
      const c = await connect();
      try {
        return (await c.query(`SHOW ${name}`)).rows[0][name] as string;
      } finally {
        await c.end();
      }
    };
    beforeAll(async () => {
      t = target();
      h = host(t);
      port = await freePort();
      writeHost(h.root, { name: "db1", roles: ["postgresql15"], settings: { postgresql: { port, work_mem: "4MB" } } });
    });
    afterAll(async () => {
      await t?.cli(["down", "--state", h.state]);
    });

    it("starts: initdb once, the postmaster runs as postgres and answers", async () => {
      const out = await cliJson<SwitchOut>(t, ["switch", ...h.args()]);
      expect(out.plan).toMatchObject([{ service: "postgresql", action: "start" }]);
      expect(await uidOf(t, (await pidOf(t, h.state, "postgresql"))!)).toBe(idOf("postgres"));
      expect(await show("work_mem")).toBe("4MB");
    });

    it("a work_mem snippet is a reload: same postmaster, new value", async () => {
      const pid = await pidOf(t, h.state, "postgresql");
      writeSnippet(h.local, "postgresql", "tuning.conf", "work_mem = 16MB\n");
      const out = await cliJson<SwitchOut>(t, ["switch", ...h.args()]);
      expect(out.plan).toMatchObject([{ service: "postgresql", action: "reload", why: ["work_mem: 4MB → 16MB (reload)"] }]);
      expect(await pidOf(t, h.state, "postgresql")).toBe(pid);
      expect(await show("work_mem")).toBe("16MB");
    });

    it("shared_buffers is a restart: a new postmaster with the new value", async () => {
      const pid = await pidOf(t, h.state, "postgresql");
      writeSnippet(h.local, "postgresql", "tuning.conf", "work_mem = 16MB\nshared_buffers = 64MB\n");
      const out = await cliJson<SwitchOut>(t, ["switch", ...h.args()]);
      expect(out.plan).toMatchObject([{ service: "postgresql", action: "restart" }]);
      expect(await pidOf(t, h.state, "postgresql")).not.toBe(pid);
      expect(await show("shared_buffers")).toBe("64MB");
    });
  });
}

/** Redis: runs as redis; a runtime change keeps its PID and its keys. */
export function runRedisCases(manager: string, target: () => Target): void {
  describe(`redis under ${manager}`, () => {
    let t: Target;
    let h: ReturnType<typeof host>;
    let client: Redis;
    beforeAll(async () => {
      t = target();
      h = host(t);
      writeHost(h.root, { name: "cache1", roles: ["redis"], settings: { redis: { port: await freePort() } } });
      writeSnippet(h.local, "redis", "cache.conf", "maxmemory 100mb\nsave 900 1\n");
    });
    afterAll(async () => {
      client?.disconnect();
      await t?.cli(["down", "--state", h.state]);
    });
    const config = async (name: string) => ((await client.call("CONFIG", "GET", name)) as string[])[1];

    it("starts Redis as user redis, with the password from <state>/secrets", async () => {
      const out = await cliJson<SwitchOut>(t, ["switch", ...h.args()]);
      expect(out.plan).toMatchObject([{ service: "redis", action: "start" }]);
      expect(await uidOf(t, (await pidOf(t, h.state, "redis"))!)).toBe(idOf("redis"));
      const password = readFileSync(t.path(path.join(h.state, "secrets", "redis.password")), "utf8").trim();
      client = new Redis({ path: t.path(path.join(h.state, "run", "redis", "redis.sock")), password, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 1 });
      client.on("error", () => {});
      await client.connect();
      await client.set("customer:1", "alice");
      expect(await config("maxmemory")).toBe(String(100 * 1024 * 1024));
    });

    it("a runtime change keeps the PID and the keys", async () => {
      const pid = await pidOf(t, h.state, "redis");
      writeSnippet(h.local, "redis", "cache.conf", "maxmemory 200mb\nsave 900 1\n");
      const out = await cliJson<SwitchOut>(t, ["switch", ...h.args()]);
      expect(out.plan).toMatchObject([{ service: "redis", action: "runtime", why: ["maxmemory: 100mb → 200mb (runtime)"] }]);
      expect(await pidOf(t, h.state, "redis")).toBe(pid);
      expect(await config("maxmemory")).toBe(String(200 * 1024 * 1024));
      expect(await client.get("customer:1")).toBe("alice");
    });
  });
}

/** memcached: every change a restart that says what it loses; a start that fails rolls back, quoting memcached's own log. */
export function runMemcachedCases(manager: string, target: () => Target): void {
  describe(`memcached under ${manager}`, () => {
    let t: Target;
    let h: ReturnType<typeof host>;
    let port = 0;
    let first = "";
    const write = (p: number, memory = 64) => writeHost(h.root, { name: "cache2", roles: ["memcached"], settings: { memcached: { port: p, memory } } });
    beforeAll(async () => {
      t = target();
      h = host(t);
      port = await freePort();
      write(port);
    });
    afterAll(async () => {
      await t?.cli(["down", "--state", h.state]);
    });

    it("starts memcached as user memcache", async () => {
      first = (await cliJson<SwitchOut>(t, ["switch", ...h.args()])).generation;
      expect(await t.probes.tcpRequest(port, "version")).toMatch(/^VERSION 1\./);
      expect(await uidOf(t, (await pidOf(t, h.state, "memcached"))!)).toBe(idOf("memcache"));
    });

    it("a memory change is a restart: a new PID, the new size, and the plan says the cache is emptied", async () => {
      expect(await t.probes.tcpRequest(port, "set k 0 0 1\r\nv")).toBe("STORED\r\n");
      const pid = await pidOf(t, h.state, "memcached");
      write(port, 128);
      const out = await cliJson<SwitchOut>(t, ["switch", ...h.args()]);
      expect(out.plan).toMatchObject([{ service: "memcached", action: "restart" }]);
      expect(out.plan[0]!.why).toEqual(expect.arrayContaining(["memory: 64 → 128 (restart)", "a restart: the cache is emptied (memcached keeps items only in memory)"]));
      expect(await pidOf(t, h.state, "memcached")).not.toBe(pid);
      expect(await t.probes.tcpRequest(port, "stats settings")).toContain(`STAT maxbytes ${128 * 1024 * 1024}\r\n`);
      expect(await t.probes.tcpRequest(port, "get k")).toBe("END\r\n");
      first = out.generation;
    });

    it("a start that fails (its port taken) rolls back; the error quotes memcached's own log line", async () => {
      const taken = await freePort();
      await t.probes.occupy(taken);
      try {
        write(taken, 128);
        const r = await t.cli(["switch", ...h.args(), "--health-timeout", "5"]);
        expect(r.code, r.stderr).toBe(1);
        const message = r.stderr.trim().split("\n").at(-1)!;
        expect(message).toMatch(/^congruent: memcached: /);
        expect(message).toMatch(/its log says: .*(failed to listen|Address already in use)/);
        expect(message).toContain(`rolled back to ${first}`);
      } finally {
        await t.probes.release(taken);
      }
      expect((await cliJson<StatusOut>(t, ["status", "--state", h.state])).generation).toBe(first);
      expect(await eventually(async () => /^VERSION/.test(await t.probes.tcpRequest(port, "version")))).toBe(true);
      write(port, 128);
    });
  });
}
