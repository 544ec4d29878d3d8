import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { Redis } from "ioredis";
import { cli, cliJson, freePort, tempDir, writeHost, writeSnippet, type StatusOut } from "../helpers.js";
import { memcachedCommand } from "../support/memcached.js";

/** A port some other program already listens on. */
function occupy(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/** Retry `probe` a bounded number of times (the service may still be coming up). */
async function eventually<T>(probe: () => Promise<T>, tries = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await probe();
    } catch (error) {
      if (i >= tries) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A generation whose service cannot come up (its port is taken by someone else): the switch
 * returns to the previous generation by itself, which serves again, and exits 1 saying why.
 */
describe("automatic rollback when a service does not become healthy", () => {
  const root = tempDir();
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  let memcachedPort = 0;
  let redisPort = 0;
  let taken = 0;
  let blocker: net.Server;
  let first = "";
  const host = (mcPort: number, rPort = redisPort) => writeHost(root, { name: "cache3", roles: ["memcached", "redis"], settings: { memcached: { port: mcPort }, redis: { port: rPort } } });
  const args = () => ["--host", path.join(root, "host.json"), "--local", local, "--state", state, "--health-timeout", "5"];

  beforeAll(async () => {
    chmodSync(root, 0o755);
    memcachedPort = await freePort();
    redisPort = await freePort();
    taken = await freePort();
    blocker = await occupy(taken);
    host(memcachedPort);
    writeSnippet(local, "redis", "cache.conf", "save 900 1\n");
    first = (await cliJson<{ generation: string }>(["switch", ...args()])).generation;
  });

  afterAll(async () => {
    blocker?.close();
    await cli(["down", "--state", state]);
  });

  it("memcached on a taken port: exit 1 naming the service and the reason, the old generation serving again", async () => {
    const password = readFileSync(path.join(state, "secrets", "redis.password"), "utf8").trim();
    const client = new Redis({ host: "127.0.0.1", port: redisPort, password, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    await client.connect();
    await client.set("order:7", "paid");
    expect(await memcachedCommand(memcachedPort, "set k 0 0 1\r\nv")).toBe("STORED\r\n");
    const gensBefore = await cliJson<{ number: number; current: boolean }[]>(["generations", "--state", state]);

    host(taken);
    const r = await cli(["switch", ...args()]);
    expect(r.code, r.stderr).toBe(1);
    const message = r.stderr.trim().split("\n").at(-1)!;
    expect(message).toMatch(/^congruent: memcached: /);
    // Either the health check waited for it in vain (and quotes memcached's own complaint), or
    // the supervisor already saw it die right after the restart (before or after it was counted
    // as restarted): which one depends on the machine's load.
    expect(message).toMatch(/memcached: (not healthy within 5\.0 s: .*Address already in use|not running after activation|restart failed: .*no new process after restart)/);
    expect(message).toContain(`rolled back to ${first}`);

    // The previous generation is current and memcached answers on its old port.
    const status = await cliJson<StatusOut>(["status", "--state", state]);
    expect(status.generation).toBe(first);
    expect(status.services.find((s) => s.name === "memcached")?.state).toBe("running");
    expect(await eventually(() => memcachedCommand(memcachedPort, "version"))).toMatch(/^VERSION \d/);
    const gens = await cliJson<{ number: number; path: string; current: boolean }[]>(["generations", "--state", state]);
    expect(gens.find((g) => g.current)?.path).toBe(first);
    expect(gens.find((g) => g.current)?.number).toBe(gensBefore.find((g) => g.current)?.number);
    // Redis, which did not change, was not touched: same data, same process.
    expect(await client.get("order:7")).toBe("paid");
    client.disconnect();
    expect(existsSync(path.join(state, "data", "redis"))).toBe(true);
  });

  it("Redis moved to a taken port at runtime: CONFIG SET refuses, the switch rolls back, keys and process kept", async () => {
    const password = readFileSync(path.join(state, "secrets", "redis.password"), "utf8").trim();
    const client = new Redis({ host: "127.0.0.1", port: redisPort, password, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    await client.connect();
    const pid = (await cliJson<StatusOut>(["status", "--state", state])).services.find((s) => s.name === "redis")?.pid;

    host(memcachedPort, taken);
    const dry = await cliJson<{ plan: { service: string; action: string; why: string[] }[] }>(["switch", ...args(), "--dry-run"]);
    expect(dry.plan.find((p) => p.service === "redis")).toMatchObject({ action: "runtime", why: [`port: ${redisPort} → ${taken} (runtime)`] });
    const r = await cli(["switch", ...args()]);
    expect(r.code, r.stderr).toBe(1);
    const message = r.stderr.trim().split("\n").at(-1)!;
    expect(message).toMatch(new RegExp(`^congruent: redis: runtime failed: CONFIG SET port "${taken}": .*`));
    expect(message).toContain(`rolled back to ${first}`);
    const status = await cliJson<StatusOut>(["status", "--state", state]);
    expect(status.generation).toBe(first);
    expect(status.services.find((s) => s.name === "redis")?.pid).toBe(pid);
    expect(await client.get("order:7")).toBe("paid");
    expect(((await client.call("CONFIG", "GET", "port")) as string[])[1]).toBe(String(redisPort));
    client.disconnect();
    host(memcachedPort);
  });
});
