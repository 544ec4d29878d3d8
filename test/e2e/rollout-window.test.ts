import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canaryScore } from "../../src/directory/rollout.js";
import { CLI, cli, cliJson, freePort, servicePid, tempDir } from "../helpers.js";
import { memcachedSettings } from "../support/memcached.js";

interface ManageOut {
  report: { result: string; release: { number: number } | null; deferred: { service: string; action: string }[] };
  delivered: boolean;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A directory on a loopback port, with the serve flags given; stopped by PID. */
async function startDirectory(root: string, flags: string[] = []): Promise<{ url: string; adminFile: string; child: ChildProcess }> {
  const adminFile = path.join(root, "admin.token");
  writeFileSync(adminFile, randomBytes(24).toString("hex"), { mode: 0o600 });
  const url = `http://127.0.0.1:${await freePort()}`;
  const child = spawn(process.execPath, [CLI, "directory", "serve", "--db", `sqlite:${root}/directory.db`, "--listen", url.slice(7), "--admin-token-file", adminFile, "--log-level", "warn", ...flags], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)) return { url, adminFile, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("directory did not start");
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(child.pid, "SIGTERM");
  await exited;
}

/** Two memcached hosts (every change a restart), one of them the canary, their agents for real. */
describe("a rollout waits for a canary whose restart waits for its window", () => {
  const root = tempDir("congruent-rollout-window-");
  const hosts = ["cache1", "cache2"];
  const canary = [...hosts].sort((a, b) => canaryScore(a) - canaryScore(b))[0]!;
  const outsider = hosts.find((h) => h !== canary)!;
  const share = String(canaryScore(canary) + 1);
  const ports: Record<string, number> = {};
  let dir: Awaited<ReturnType<typeof startDirectory>>;
  const admin = <T = Record<string, unknown>>(args: string[]) => cliJson<T>(args, { CONGRUENT_DIRECTORY: dir.url, CONGRUENT_TOKEN: "" });
  const adminArgs = () => ["--token-file", dir.adminFile];
  const state = (h: string) => path.join(root, h, "state");
  const manage = async (h: string, extra: string[] = []) => {
    const r = await cli(["manage", "--once", "--json", "--directory", dir.url, "--token-file", path.join(root, `${h}.token`), "--name", h, "--state", state(h), "--local", path.join(root, h, "local"), ...extra]);
    expect(r.code, `${h}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as ManageOut;
  };
  const release = async (version: string, memory: number) => {
    const file = path.join(root, `${version}.json`);
    writeFileSync(file, JSON.stringify({ memcached: { memcached: { memory } } }));
    return admin<{ number: number }>(["channel", "release", "stable", "--version", version, "--defaults", file, ...adminArgs()]);
  };

  beforeAll(async () => {
    chmodSync(root, 0o755);
    dir = await startDirectory(root);
    await admin(["rg", "add", "acme", ...adminArgs()]);
    await admin(["channel", "create", "stable", ...adminArgs()]);
    await release("r1", 64);
    await admin(["channel", "promote", "stable", "1", "--canary-share", "100", ...adminArgs()]);
    for (const h of hosts) {
      ports[h] = await freePort();
      await admin(["host", "add", h, "--rg", "acme", "--role", "memcached", "--set", `memcached.port=${ports[h]}`, "--channel", "stable", "--token-out", path.join(root, `${h}.token`), ...adminArgs()]);
      expect((await manage(h)).report).toMatchObject({ result: "switched", release: { number: 1 } });
    }
  });

  afterAll(async () => {
    for (const h of hosts) await cli(["down", "--state", state(h)]);
    await stop(dir?.child);
  });

  it("the canary defers the restart: the rollout is 'waiting for window', the rest keep the previous release", async () => {
    const notToday = WEEKDAYS[(new Date().getUTCDay() + 3) % 7]!;
    await admin(["host", "set", canary, "--window", `${notToday} 02:00-03:00`, "--timezone", "UTC", ...adminArgs()]);
    await release("r2", 96);
    await admin(["channel", "promote", "stable", "2", "--canary-share", share, ...adminArgs()]);
    const pid = await servicePid(state(canary), "memcached");
    const out = await manage(canary);
    expect(out.report).toMatchObject({ result: "deferred", release: { number: 2 }, deferred: [{ service: "memcached", action: "restart" }] });
    expect(await servicePid(state(canary), "memcached")).toBe(pid);

    const text = await cli(["channel", "status", "stable", "--directory", dir.url, ...adminArgs()]);
    expect(text.stdout).toMatch(/rollout of 2: waiting for window \(0\/1 canaries applied it\)/);
    expect(text.stdout).toMatch(new RegExp(`^  waiting for window: ${canary} \\(${notToday} 02:00-03:00 UTC, opens \\d{4}-\\d\\d-\\d\\dT02:00:00\\.000Z\\)$`, "m"));
    const status = await admin<{ rollout: { state: string; waiting: { host: string }[] } }>(["channel", "status", "stable", ...adminArgs()]);
    expect(status.rollout).toMatchObject({ state: "canary", waiting: [{ host: canary }] });
    // The untested release does not reach the others.
    expect((await manage(outsider)).report).toMatchObject({ result: "unchanged", release: { number: 1 } });
  });

  it("an admin continues the rollout; a host without a window defers its restart until --force", async () => {
    const continued = await admin<{ rollout: { state: string; forcedAt: string } }>(["channel", "continue", "stable", ...adminArgs()]);
    expect(continued.rollout).toMatchObject({ state: "complete", forcedAt: expect.any(String) });
    const pid = await servicePid(state(outsider), "memcached");
    // No maintenance window: as 'host set --no-window' says, restarts wait for --force.
    const deferred = await manage(outsider);
    expect(deferred.report).toMatchObject({ result: "deferred", release: { number: 2 }, deferred: [{ service: "memcached", action: "restart" }] });
    expect(await servicePid(state(outsider), "memcached")).toBe(pid);
    const shown = await cli(["host", "show", outsider, "--directory", dir.url, ...adminArgs()]);
    expect(shown.stdout).toContain("window: (none: restarts wait for --force)");
    expect(shown.stdout).toContain("pending (waits for --force):");

    const forced = await manage(outsider, ["--force"]);
    expect(forced.report).toMatchObject({ result: "switched", release: { number: 2 } });
    expect(await servicePid(state(outsider), "memcached")).not.toBe(pid);
    expect((await memcachedSettings(ports[outsider]!)).get("maxbytes")).toBe(String(96 * 1024 * 1024));
  });
});

describe("a host that reports faster than the directory takes it", () => {
  const root = tempDir("congruent-report-rate-");
  let dir: Awaited<ReturnType<typeof startDirectory>>;

  beforeAll(async () => {
    dir = await startDirectory(root, ["--report-burst", "1", "--report-rate", "1"]);
  });
  afterAll(async () => {
    await cli(["down", "--state", path.join(root, "state")]);
    await stop(dir?.child);
  });

  it("gets 429 and keeps the report in its outbox for a later run, exit 0", async () => {
    const env = { CONGRUENT_DIRECTORY: dir.url, CONGRUENT_TOKEN: "" };
    await cliJson(["rg", "add", "acme", "--token-file", dir.adminFile], env);
    const token = path.join(root, "lone.token");
    await cliJson(["host", "add", "lone", "--rg", "acme", "--token-out", token, "--token-file", dir.adminFile], env);
    const run = () => cli(["manage", "--once", "--json", "--directory", dir.url, "--token-file", token, "--name", "lone", "--state", path.join(root, "state"), "--local", path.join(root, "local")]);
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).delivered).toBe(true);
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ report: { result: "unchanged" }, delivered: false });
    expect(readdirSync(path.join(root, "state", "agent", "outbox"))).toHaveLength(1);
    const shown = await cliJson<{ lastReport: { result: string } }>(["host", "show", "lone", "--token-file", dir.adminFile], env);
    expect(shown.lastReport.result).toBe("switched");
  });
});
