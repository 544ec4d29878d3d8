import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { canaryScore } from "../../src/directory/rollout.js";
import { CLI, cli, cliJson, freePort, httpGet, tempDir, vhost, writeSnippet } from "../helpers.js";

interface ManageOut {
  report: { result: string; release: { number: number } | null; plan: { service: string; action: string; why: string[] }[]; deferred: { service: string; action: string; why: string[] }[]; warnings: string[]; error?: string };
  delivered: boolean;
}

/** Workers of an nginx master: its direct children. */
function workers(master: number): number {
  return readFileSync(`/proc/${master}/task/${master}/children`, "utf8").trim().split(/\s+/).filter(Boolean).length;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** One directory, three agents (separate state dirs, real nginx each), converging. */
describe("a fleet: directory, channel releases, three agents", () => {
  const root = tempDir("congruent-fleet-");
  const adminFile = path.join(root, "admin.token");
  const db = path.join(root, "directory.db");
  const hosts = ["web1", "web2", "web3"];
  const ports: Record<string, number> = {};
  let url = "";
  let server: ChildProcess | undefined;
  const admin = (args: string[]) => cliJson(args, { CONGRUENT_DIRECTORY: url, CONGRUENT_TOKEN: readFileSync(adminFile, "utf8").trim() });
  const state = (h: string) => path.join(root, h, "state");
  const local = (h: string) => path.join(root, h, "local");
  const manage = (h: string, extra: string[] = [], env: Record<string, string> = {}) =>
    cli(["manage", "--once", "--json", "--directory", url, "--token-file", path.join(root, `${h}.token`), "--name", h, "--state", state(h), "--local", local(h), ...extra], env);
  const manageOk = async (h: string, extra: string[] = [], env: Record<string, string> = {}) => {
    const r = await manage(h, extra, env);
    expect(r.code, `${h}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as ManageOut;
  };
  const nginxPid = async (h: string) => (await cliJson<{ services: { pid: number }[] }>(["status", "--state", state(h)])).services[0]!.pid;

  async function startDirectory(): Promise<void> {
    server = spawn(process.execPath, [CLI, "directory", "serve", "--db", `sqlite:${db}`, "--listen", url.replace("http://", ""), "--admin-token-file", adminFile, "--log-level", "warn"], { stdio: "ignore" });
    for (let i = 0; i < 200; i++) {
      if (await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("directory did not start");
  }
  async function stopDirectory(): Promise<void> {
    if (!server?.pid) return;
    const exited = new Promise((r) => server!.once("exit", r));
    process.kill(server.pid, "SIGTERM");
    await exited;
    server = undefined;
  }

  beforeAll(async () => {
    writeFileSync(adminFile, randomBytes(24).toString("hex"), { mode: 0o600 });
    url = `http://127.0.0.1:${await freePort()}`;
    await startDirectory();
    await admin(["rg", "add", "acme"]);
    await admin(["channel", "create", "stable"]);
    writeFileSync(path.join(root, "r1.json"), JSON.stringify({ webgateway: { nginx: { worker_processes: 1 } } }));
    await admin(["channel", "release", "stable", "--version", "2026.11.1", "--defaults", path.join(root, "r1.json")]);
    await admin(["channel", "promote", "stable", "1"]);
    for (const h of hosts) {
      ports[h] = await freePort();
      await admin(["host", "add", h, "--rg", "acme", "--role", "webgateway", "--channel", "stable", "--token-out", path.join(root, `${h}.token`)]);
      writeSnippet(local(h), "nginx", "site.conf", vhost(ports[h]!, `${h} v1`));
    }
  });

  afterAll(async () => {
    for (const h of hosts) await cli(["down", "--state", state(h)]);
    await stopDirectory();
  });

  it("three agents converge: each builds, starts nginx, serves its vhost and reports", async () => {
    for (const h of hosts) {
      const out = await manageOk(h);
      expect(out.report).toMatchObject({ result: "switched", release: { channel: "stable", number: 1 } });
      expect(out.delivered).toBe(true);
      expect((await httpGet(ports[h]!)).body).toBe(`${h} v1\n`);
    }
    const shown = await admin(["host", "show", "web2"]) as { lastReport: { result: string } | null };
    expect(shown.lastReport?.result).toBe("switched");
  });

  it("an agent run that finds nothing changed costs a 304 and no build", async () => {
    const r = await manage("web1", [], {});
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).report.result).toBe("unchanged");
    const text = await cli(["manage", "--once", "--directory", url, "--token-file", path.join(root, "web1.token"), "--name", "web1", "--state", state("web1"), "--local", local("web1")]);
    expect(text.stderr).toContain("nothing changed: no build");
  });

  it("a setting changed in the directory reaches all three on their next run, as a reload", async () => {
    writeFileSync(path.join(root, "r2.json"), JSON.stringify({ webgateway: { nginx: { worker_processes: 2 } } }));
    await admin(["channel", "release", "stable", "--version", "2026.11.2", "--defaults", path.join(root, "r2.json")]);
    await admin(["channel", "promote", "stable", "2", "--canary-share", "100"]);
    for (const h of hosts) {
      const pid = await nginxPid(h);
      const out = await manageOk(h);
      expect(out.report.release?.number).toBe(2);
      expect(out.report.plan).toEqual([{ service: "nginx", action: "reload", why: ["worker_processes: 1 → 2 (reload)"] }]);
      expect(await nginxPid(h)).toBe(pid);
      expect(workers(pid)).toBe(2);
    }
  });

  it("a release that fails on its canary halts the rollout; the rest stay on the previous release", async () => {
    // The canary share that picks exactly the host with the lowest score.
    const lowest = [...hosts].sort((a, b) => canaryScore(a) - canaryScore(b))[0]!;
    const share = canaryScore(lowest) + 1;
    writeFileSync(path.join(root, "r3.json"), JSON.stringify({ webgateway: { nginx: { worker_processes: 2, user: "no-such-user" } } }));
    await admin(["channel", "release", "stable", "--version", "2026.11.3-broken", "--defaults", path.join(root, "r3.json")]);
    await admin(["channel", "promote", "stable", "3", "--canary-share", String(share)]);
    const status = await admin(["channel", "status", "stable"]) as { rollout: { canaryHosts: string[] } };
    expect(status.rollout.canaryHosts).toEqual([lowest]);

    const failed = await manage(lowest);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout).report).toMatchObject({ result: "failed", release: { number: 3 }, error: expect.stringContaining("no-such-user") });
    expect((await httpGet(ports[lowest]!)).body).toBe(`${lowest} v1\n`);

    const halted = await admin(["channel", "status", "stable"]) as { rollout: { state: string; failed: { host: string }[] }; hosts: { name: string; target: number }[] };
    expect(halted.rollout.state).toBe("halted");
    expect(halted.rollout.failed.map((f) => f.host)).toEqual([lowest]);
    for (const h of hosts.filter((x) => x !== lowest)) {
      expect(halted.hosts.find((x) => x.name === h)?.target).toBe(2);
      const out = await manageOk(h);
      expect(out.report).toMatchObject({ result: "unchanged", release: { number: 2 } });
    }
    // Fix forward: release 4 repairs it for everyone.
    writeFileSync(path.join(root, "r4.json"), JSON.stringify({ webgateway: { nginx: { worker_processes: 2 } } }));
    await admin(["channel", "release", "stable", "--version", "2026.11.4", "--defaults", path.join(root, "r4.json")]);
    await admin(["channel", "promote", "stable", "4", "--canary-share", "100"]);
    for (const h of hosts) expect((await manageOk(h)).report.release?.number).toBe(4);
  });

  it("with the directory down, the agent carries on with its saved description and reports later", async () => {
    await stopDirectory();
    writeSnippet(local("web3"), "nginx", "site.conf", vhost(ports.web3!, "web3 v2"));
    const r = await manage("web3");
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as ManageOut;
    expect(out.delivered).toBe(false);
    expect(out.report.result).toBe("switched");
    expect(out.report.warnings[0]).toMatch(/directory unreachable/);
    expect((await httpGet(ports.web3!)).body).toBe("web3 v2\n");
    expect(readdirSync(path.join(state("web3"), "agent", "outbox"))).toHaveLength(1);

    await startDirectory();
    expect((await manageOk("web3")).delivered).toBe(true);
    expect(readdirSync(path.join(state("web3"), "agent", "outbox"))).toHaveLength(0);
    const reports = await admin(["host", "show", "web3"]) as { lastReport: { result: string } };
    expect(reports.lastReport.result).toBe("unchanged");
  });

  it("a restart outside the maintenance window is deferred and shown as pending; --force applies it", async () => {
    const notToday = WEEKDAYS[(new Date().getUTCDay() + 3) % 7]!;
    await admin(["host", "set", "web2", "--window", `${notToday} 02:00-03:00`, "--timezone", "UTC"]);
    // A new nginx binary (same program, another path) is a restart-class change.
    const copy = path.join(root, "nginx-copy");
    copyFileSync("/usr/sbin/nginx", copy);
    const env = { CONGRUENT_NGINX: copy };
    const pid = await nginxPid("web2");
    const out = await manageOk("web2", [], env);
    expect(out.report.result).toBe("deferred");
    expect(out.report.deferred).toMatchObject([{ service: "nginx", action: "restart" }]);
    expect(await nginxPid("web2")).toBe(pid);
    const shown = await admin(["host", "show", "web2"]) as { pending: { service: string; action: string }[] };
    expect(shown.pending).toMatchObject([{ service: "nginx", action: "restart" }]);
    expect((await cliJson<{ pending: unknown[] }>(["status", "--state", state("web2")])).pending).toHaveLength(1);

    const forced = await manageOk("web2", ["--force"], env);
    expect(forced.report.result).toBe("switched");
    expect(forced.report.plan).toMatchObject([{ service: "nginx", action: "restart" }]);
    expect(await nginxPid("web2")).not.toBe(pid);
    expect((await httpGet(ports.web2!)).body).toBe("web2 v1\n");
    expect((await admin(["host", "show", "web2"]) as { pending: unknown[] }).pending).toEqual([]);
  });

  it("an activation that fails is rolled back and not retried with the same inputs until --force", async () => {
    const held = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(held, "127.0.0.1", resolve));
    try {
      writeSnippet(local("web3"), "nginx", "extra.conf", vhost(held, "web3 extra"));
      const pid = await nginxPid("web3");
      const failed = await manage("web3", ["--health-timeout", "2"]);
      expect(failed.code).toBe(1);
      const report = (JSON.parse(failed.stdout) as ManageOut).report;
      expect(report).toMatchObject({ result: "failed" });
      expect(report.error).toMatch(/^nginx\b.*its log says: .*Address already in use.*; rolled back to /);
      // The vhost it served before (an earlier test moved web3 to v2).
      expect((await httpGet(ports.web3!)).body).toBe("web3 v2\n");

      const again = await manage("web3", ["--health-timeout", "2"]);
      expect(again.code).toBe(1);
      expect((JSON.parse(again.stdout) as ManageOut).report.error).toMatch(/^not retried: the same generation failed at .*; change the inputs or run with --force$/);
      expect(await nginxPid("web3")).toBe(pid);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    // The port is free now: --force tries the same generation again, and it works.
    const forced = await manageOk("web3", ["--force"]);
    expect(forced.report.result).toBe("switched");
    expect((await httpGet(held)).body).toBe("web3 extra\n");
  });

  it("an agent killed in the middle of a run: the next run recovers, the lock is not stale", async () => {
    writeSnippet(local("web1"), "nginx", "site.conf", vhost(ports.web1!, "web1 v3"));
    const child = spawn(process.execPath, [CLI, "manage", "--once", "--directory", url, "--token-file", path.join(root, "web1.token"), "--name", "web1", "--state", state("web1"), "--local", local("web1")], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 250));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const out = await manageOk("web1");
    expect(["switched", "unchanged"]).toContain(out.report.result);
    expect((await httpGet(ports.web1!)).body).toBe("web1 v3\n");
    expect(existsSync(path.join(state("web1"), "activation", "pending.json"))).toBe(false);
  });
});
