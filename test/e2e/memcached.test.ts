import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cli, cliJson, freePort, tempDir, writeHost, writeSnippet, type SwitchOut, servicePid } from "../helpers.js";
import { memcachedCommand, memcachedSettings } from "../support/memcached.js";

describe("memcached through the integration point", () => {
  const root = tempDir();
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  let port = 0;
  let hostFile = "";
  const args = () => ["--host", hostFile, "--local", local, "--state", state];
  const pidOf = () => servicePid(state, "memcached");

  beforeAll(async () => {
    chmodSync(root, 0o755);
    port = await freePort();
    hostFile = writeHost(root, { name: "cache2", roles: ["memcached"], settings: { memcached: { port } } });
  });

  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  it("starts memcached with the defaults, running as user memcache", async () => {
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan).toMatchObject([{ service: "memcached", action: "start" }]);
    expect(await memcachedCommand(port, "version")).toMatch(/^VERSION 1\.\d+\.\d+\r\n$/);
    const settings = await memcachedSettings(port);
    expect(settings.get("maxbytes")).toBe(String(64 * 1024 * 1024));
    expect(settings.get("maxconns")).toBe("1024");
    expect(settings.get("udpport")).toBe("0");
    const pid = (await pidOf())!;
    const uid = /^Uid:\s+(\d+)/m.exec((await import("node:fs")).readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    expect(uid).not.toBe("0");
  });

  it("plans a restart for a memory change and names it; --dry-run changes nothing", async () => {
    writeSnippet(local, "memcached", "memcached.json", '{\n  "memory": 128\n}\n');
    const pid = await pidOf();
    const dry = await cliJson<SwitchOut>(["switch", ...args(), "--dry-run"]);
    expect(dry.plan).toMatchObject([{ service: "memcached", action: "restart" }]);
    expect(dry.plan[0]!.why).toContain("memory: 64 → 128 (restart)");
    expect(await pidOf()).toBe(pid);
    expect((await memcachedSettings(port)).get("maxbytes")).toBe(String(64 * 1024 * 1024));
  });

  it("restarts for the memory change: new PID, stats settings shows the new maxbytes", async () => {
    const pid = await pidOf();
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.result).toBe("switched");
    expect(out.plan).toMatchObject([{ service: "memcached", action: "restart" }]);
    expect(out.plan[0]!.why).toContain("memory: 64 → 128 (restart)");
    const after = await pidOf();
    expect(after).toBeTruthy();
    expect(after).not.toBe(pid);
    expect((await memcachedSettings(port)).get("maxbytes")).toBe(String(128 * 1024 * 1024));
  });

  it("does nothing when nothing changed: same PID, items kept", async () => {
    expect(await memcachedCommand(port, "set greeting 0 0 5\r\nhello")).toBe("STORED\r\n");
    const pid = await pidOf();
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.result).toBe("unchanged");
    expect(out.plan).toMatchObject([{ service: "memcached", action: "none" }]);
    expect(await pidOf()).toBe(pid);
    expect(await memcachedCommand(port, "get greeting")).toBe("VALUE greeting 0 5\r\nhello\r\nEND\r\n");
  });

  it("rejects a bad memcached.json naming file and line; memcached keeps running", async () => {
    const pid = await pidOf();
    const file = path.join(local, "memcached", "memcached.json");
    writeFileSync(file, '{\n  "memory": 128,\n  "threads": 0\n}\n');
    const r = await cli(["switch", ...args()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:3: threads: 0 is below the minimum 1`);
    expect(await pidOf()).toBe(pid);
    writeFileSync(file, '{\n  "memory": 128\n}\n');
  });

  it("the options few hosts set (-R, -C, -M, -v) reach memcached, and only a host that sets one records it", async () => {
    const before = await cliJson<SwitchOut>(["switch", "--dry-run", ...args()]);
    expect(before.plan).toMatchObject([{ service: "memcached", action: "none" }]);
    writeSnippet(local, "memcached", "memcached.json", '{\n  "memory": 128,\n  "reqs_per_event": 40,\n  "cas": false,\n  "evictions": false\n}\n');
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan).toMatchObject([{ service: "memcached", action: "restart" }]);
    expect(out.plan[0]!.why).toEqual(expect.arrayContaining(["reqs_per_event: 20 (default) → 40 (restart)", "cas: true (default) → false (restart)", "evictions: true (default) → false (restart)"]));
    const settings = await memcachedSettings(port);
    expect([settings.get("reqs_per_event"), settings.get("cas_enabled"), settings.get("evictions")]).toEqual(["40", "no", "off"]);
  });
});
