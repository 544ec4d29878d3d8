import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compareAnswers } from "../../src/migrate/verify/compare.js";
import type { Probe } from "../../src/migrate/verify/requests.js";
import type { Answer } from "../../src/migrate/verify/runner.js";
import { canSandbox } from "../../src/migrate/verify/sandbox.js";
import { CLI, cli, tempDir } from "../helpers.js";
import { writeLegacyHost } from "../support/legacy-host.js";

/** The command-line contract of `migrate verify` beyond the answers: errors, --state, and kill -9. */
const sandbox = canSandbox();

/** Every process whose command line names `dir` (the servers a run started live below it). */
function processesUnder(dir: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("comparing two answers", () => {
  const probe: Probe = { endpoint: { host: "127.0.0.1", port: 80, tls: false }, name: "example.com", method: "GET", path: "/a.css", headers: {} };
  const answer = (date: string, expires: string): Answer => ({ status: 200, headers: { date, expires }, bodySha256: "x", bodyBytes: 1, body: "x" });
  const differences = (a: Answer, b: Answer) => compareAnswers([probe], [a], [b]).map((d) => d.field);

  it("takes Expires as a time after Date (expires 30d) or as a date (expires max), seconds apart either way", () => {
    const [t0, t5] = ["Tue, 01 Dec 2026 13:00:00 GMT", "Tue, 01 Dec 2026 13:00:05 GMT"];
    expect(differences(answer(t0, "Thu, 31 Dec 2026 13:00:00 GMT"), answer(t5, "Thu, 31 Dec 2026 13:00:05 GMT"))).toEqual([]);
    expect(differences(answer(t0, "Thu, 31 Dec 2037 23:55:55 GMT"), answer(t5, "Thu, 31 Dec 2037 23:55:55 GMT"))).toEqual([]);
    expect(differences(answer(t0, "Thu, 31 Dec 2026 13:00:00 GMT"), answer(t5, "Wed, 30 Dec 2026 13:00:05 GMT"))).toEqual(["header expires"]);
  });
});

describe.skipIf(!sandbox.ok)(`congruent migrate verify${sandbox.ok ? "" : ` (skipped: ${sandbox.why})`}`, () => {
  let root: string;
  let plan: string;
  beforeAll(async () => {
    root = tempDir("verify-legacy-");
    writeLegacyHost(root, { services: { php: false, postgresql: true, redis: false, memcached: true }, homeSoftware: false, dirs: ["/run", "/var/log/nginx"], links: { "/var/run": "../run" } });
    const inv = path.join(tempDir("verify-inv-"), "inv.json");
    await cli(["migrate", "inventory", "--root", root, "--out", inv]);
    plan = tempDir("verify-plan-");
    expect((await cli(["migrate", "plan", "--inventory", inv, "--out", plan])).code).toBe(0);
  });

  it("keeps the state directory it is given: a second run reuses it and is identical too", async () => {
    const state = tempDir("verify-state-");
    for (let run = 0; run < 2; run++) {
      const r = await cli(["migrate", "verify", "--root", root, "--plan", plan, "--state", state, "--json"]);
      expect(JSON.parse(r.stdout)).toMatchObject({ identical: true, differences: [] });
      expect(r.code).toBe(0);
    }
    expect(readdirSync(path.join(state, "cache")).some((f) => f.startsWith("verify-pg-"))).toBe(true);
    expect(existsSync(path.join(state, "profiles", "system"))).toBe(true);
  });

  it("exits 1 naming what it cannot read", async () => {
    const noPlan = await cli(["migrate", "verify", "--root", root, "--plan", path.join(plan, "nope")]);
    expect(noPlan.code).toBe(1);
    expect(noPlan.stderr).toMatch(/^congruent: .*nope\/host\.json: cannot read the plan: ENOENT/);
    const noRoot = await cli(["migrate", "verify", "--root", path.join(root, "nope"), "--plan", plan]);
    expect(noRoot.code).toBe(1);
    expect(noRoot.stderr).toContain("not a directory (the legacy host's root)");
  });

  /** Start a verify with its scratch below a TMPDIR of its own, and wait until both hosts run. */
  async function verifyRunning(): Promise<{ child: ReturnType<typeof spawn>; tmp: string }> {
    // Every server it starts names that directory: what is left of the run is what names it.
    const tmp = tempDir("verify-kill-");
    const child = spawn(process.execPath, [CLI, "migrate", "verify", "--root", root, "--plan", plan], { env: { ...process.env, TMPDIR: tmp }, stdio: ["ignore", "ignore", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      let err = "";
      child.stderr!.on("data", (d) => {
        err += d;
        if (/sending \d+ requests/.test(err)) resolve();
      });
      child.on("exit", () => reject(new Error(`verify ended before it sent requests: ${err}`)));
    });
    expect(processesUnder(tmp).length).toBeGreaterThan(0);
    return { child, tmp };
  }

  async function noneLeft(tmp: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (processesUnder(tmp).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(processesUnder(tmp)).toEqual([]);
  }

  it("killed with SIGKILL while both hosts run, leaves no process behind", async () => {
    const { child, tmp } = await verifyRunning();
    process.kill(child.pid!, "SIGKILL");
    await noneLeft(tmp);
  });

  it("interrupted (SIGTERM) while both hosts run, stops every server by PID and removes its scratch directory", async () => {
    const { child, tmp } = await verifyRunning();
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    process.kill(child.pid!, "SIGTERM");
    expect(await exited).toBe(143);
    await noneLeft(tmp);
    expect(readdirSync(tmp).filter((f) => f.startsWith("congruent-verify-") && f !== "congruent-verify-cache")).toEqual([]);
  });
});
