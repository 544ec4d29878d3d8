import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runServiceManagerConformance } from "../../src/services/manager.case.js";
import { S6Manager } from "../../src/services/s6/index.js";

runServiceManagerConformance({
  name: "s6",
  create: (stateDir) => new S6Manager({ stateDir }),
  supervisorPids: async (stateDir) => {
    const pid = Number(await fs.readFile(path.join(stateDir, "services/s6/svscan.pid"), "utf8").catch(() => "0"));
    return pid > 0 ? [pid] : [];
  },
});

describe("s6 specifics", () => {
  let stateDir = "";
  let manager: S6Manager;
  const pidFile = () => path.join(stateDir, "services/s6/svscan.pid");
  const svscanPid = async () => Number(await fs.readFile(pidFile(), "utf8"));

  beforeEach(async () => {
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "congruent-s6-"));
    manager = new S6Manager({ stateDir });
  });
  afterEach(async () => {
    const pid = await svscanPid().catch(() => 0);
    await manager.down().catch(() => {});
    if (pid > 0 && existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it("ensureRunning is idempotent and cheap once s6-svscan runs", async () => {
    await manager.ensureRunning();
    const pid = await svscanPid();
    const started = performance.now();
    for (let i = 0; i < 10; i++) await manager.ensureRunning();
    expect((performance.now() - started) / 10).toBeLessThan(20);
    expect(await svscanPid()).toBe(pid);
    await Promise.all([manager.ensureRunning(), new S6Manager({ stateDir }).ensureRunning()]);
    expect(await svscanPid()).toBe(pid);
  });

  it("recovers a stale pid file and adopts an s6-svscan whose pid file was lost", async () => {
    await fs.mkdir(path.dirname(pidFile()), { recursive: true });
    await fs.writeFile(pidFile(), `${process.pid}\n`); // alive, but not s6-svscan
    await manager.ensureRunning();
    const pid = await svscanPid();
    expect(pid).not.toBe(process.pid);
    expect(await fs.readFile(`/proc/${pid}/cmdline`, "utf8")).toContain("s6-svscan");
    await fs.rm(pidFile());
    await manager.ensureRunning();
    expect(await svscanPid()).toBe(pid);
  });

  it("a later process reloads with the stored signal; output goes to s6-log", async () => {
    await manager.install({ name: "talk", command: ["/bin/sh", "-c", "trap 'echo reloaded' HUP; echo hello >&2; while :; do sleep 0.1; done"], reloadSignal: "HUP" });
    const later = new S6Manager({ stateDir });
    await later.reload("talk");
    const log = path.join(stateDir, "log/talk/current");
    const logged = async () => (await fs.readFile(log, "utf8").catch(() => "")).includes("reloaded");
    for (let i = 0; i < 100 && !(await logged()); i++) await new Promise((r) => setTimeout(r, 50));
    const text = await fs.readFile(log, "utf8");
    expect(text).toMatch(/^\d{4}-\d\d-\d\d.* hello$/m); // stderr merged, timestamped
    expect(text).toContain("reloaded");
    await manager.install({ name: "quiet", command: ["/bin/sleep", "60"] });
    await expect(manager.reload("quiet")).rejects.toThrow(/"quiet" has no reload signal/);
  });

  it("with s6-svscan down, services read stopped; ensureRunning brings them back up", async () => {
    await manager.install({ name: "nap", command: ["/bin/sleep", "60"] });
    const svscan = await svscanPid();
    await manager.down();
    expect(existsSync(pidFile())).toBe(false);
    expect(existsSync(`/proc/${svscan}/cmdline`) && (await fs.readFile(`/proc/${svscan}/cmdline`, "utf8")) !== "").toBe(false);
    expect(await manager.status("nap")).toMatchObject({ state: "stopped", pid: null });
    await expect(manager.start("nap")).rejects.toThrow(/not supervised/);
    await manager.ensureRunning();
    for (let i = 0; i < 100 && (await manager.status("nap")).state !== "running"; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await manager.status("nap")).state).toBe("running");
  });
});
