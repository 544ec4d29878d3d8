import { spawn } from "node:child_process";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../test/support/ports.js";
import type { RenderContext } from "./component.js";
import { commandLine, effective, memcached, memcachedVersion, sizeBytes } from "./memcached.js";
import { findProgram } from "./program.js";

const DEFAULTS = { memory: 64, connections: 1024, port: 11211, listen: "127.0.0.1", threads: 4, max_item_size: "1m" };

function context(json: string | undefined, settings: Record<string, number | string> = {}): RenderContext {
  return {
    hostName: "cache1",
    parameters: {},
    settings: { ...DEFAULTS, ...settings },
    local: json === undefined ? [] : [{ name: "memcached.json", path: "/etc/local/memcached/memcached.json", contents: Buffer.from(json) }],
    runtimeDir: "/tmp/x/run/memcached",
    logDir: "/tmp/x/log/memcached",
    configLink: "/tmp/x/services/memcached/current",
    dataDir: "/tmp/x/data/memcached",
    roles: ["memcached"],
    settingSource: (key) => `host.json:4 (settings.memcached.${key})`,
  };
}

describe("memcached settings", () => {
  it("defaults, then the host description, then memcached.json", () => {
    expect(effective(context(undefined))).toEqual(DEFAULTS);
    expect(effective(context(undefined, { memory: 128 }))).toEqual({ ...DEFAULTS, memory: 128 });
    expect(effective(context('{"memory": 256, "threads": 2}', { memory: 128, port: 11311 }))).toEqual({ ...DEFAULTS, memory: 256, threads: 2, port: 11311 });
  });

  it("rejects an unknown key, a wrong type, a value out of range, naming file and line", () => {
    const at = (json: string) => () => effective(context(json));
    expect(at('{\n  "memory": 64,\n  "memroy": 128\n}')).toThrow(/^\/etc\/local\/memcached\/memcached\.json:3: unknown key "memroy" \(known: memory, connections/);
    expect(at('{\n  "threads": "four"\n}')).toThrow(/memcached\.json:2: threads: expected an integer, got "four"/);
    expect(at('{\n\n  "port": 70000\n}')).toThrow(/memcached\.json:3: port: 70000 is above the maximum 65535/);
    expect(at('{"memory": 0}')).toThrow(/memcached\.json:1: memory: 0 is below the minimum 1/);
    expect(at('{"listen": "localhost"}')).toThrow(/listen: expected an IP address/);
    expect(at('{"max_item_size": "2g"}')).toThrow(/max_item_size: expected a size/);
    expect(at('{"max_item_size": "512"}')).toThrow(/max_item_size: must be between 1k and 1024m/);
    expect(at('{\n  "memory": 64,\n  "port": 1,\n}')).toThrow(/memcached\.json:4: malformed JSON/);
    expect(at("[1]")).toThrow(/expected one JSON object/);
    expect(at('{\n  "memory": 4,\n  "max_item_size": "4m"\n}')).toThrow(/memcached\.json:3: max_item_size 4m is more than half of memory \(4 MB\)/);
    expect(() => effective(context(undefined, { memory: 2, max_item_size: "2m" }))).toThrow(/^host\.json:4 \(settings\.memcached\.max_item_size\): max_item_size 2m is more than half/);
  });

  it("reads sizes as memcached does", () => {
    expect(sizeBytes("1m")).toBe(1048576);
    expect(sizeBytes("512k")).toBe(524288);
    expect(sizeBytes("2048")).toBe(2048);
    expect(sizeBytes("1g")).toBeUndefined();
  });

  it("renders argv and records every setting as restart, with its default", async () => {
    const binary = findProgram("memcached", undefined, "memcached");
    expect(commandLine(binary, { ...DEFAULTS, memory: 128 })).toEqual([binary, "-m", "128", "-c", "1024", "-p", "11211", "-l", "127.0.0.1", "-t", "4", "-I", "1m", "-U", "0"]);
    const r = await memcached.render(context('{"memory": 128}'));
    expect(r.settings?.memory).toEqual({ value: 128, change: "restart", default: 64 });
    expect(Object.values(r.settings!).every((s) => s.change === "restart")).toBe(true);
    expect(r.service).toMatchObject({ name: "memcached", user: "memcache", command: commandLine(binary, { ...DEFAULTS, memory: 128 }) });
    expect(r.service.reloadSignal).toBeUndefined();
    expect(r.program.version).toMatch(/^1\.\d+\.\d+/);
  });
});

describe("memcached health probe", () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(() => children.forEach((c) => c.kill("SIGKILL")));

  it("answers with the version of a real memcached, and says why when nobody listens", async () => {
    const port = await freePort();
    await expect(memcachedVersion("127.0.0.1", port, 500)).rejects.toThrow(`connect ECONNREFUSED 127.0.0.1:${port}`);
    const binary = findProgram("memcached", undefined, "memcached");
    const child = spawn(binary, ["-p", String(port), "-l", "127.0.0.1", "-U", "0", "-m", "8", ...(process.getuid?.() === 0 ? ["-u", "memcache"] : [])], { stdio: "ignore" });
    children.push(child);
    let version: string | undefined;
    for (let i = 0; i < 100 && !version; i++) {
      version = await memcachedVersion("127.0.0.1", port, 500).catch(() => undefined);
      if (!version) await new Promise((r) => setTimeout(r, 20));
    }
    expect(version).toMatch(/^1\.\d+\.\d+/);
  });

  it("fails (does not hang) when something else on the port hangs up", async () => {
    const port = await freePort();
    const other = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => other.listen(port, "127.0.0.1", resolve));
    try {
      await expect(memcachedVersion("127.0.0.1", port, 2000)).rejects.toThrow(`127.0.0.1:${port} closed the connection without answering "version"`);
    } finally {
      other.close();
    }
  });
});
