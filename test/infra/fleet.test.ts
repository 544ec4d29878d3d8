import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, it } from "vitest";
import { boxUnavailable } from "../support/box.js";
import { noPostgres } from "../support/postgres.js";
import { itUnless } from "../support/skip.js";
import { Fleet, type HostSpec } from "./support/fleet.js";
import { table, type Row } from "./support/ledger.js";
import { agentKilled } from "./scenarios/agent-killed.js";
import { clockSkew } from "./scenarios/clock-skew.js";
import { converge } from "./scenarios/converge.js";
import { diskFull } from "./scenarios/disk-full.js";
import { linkDown } from "./scenarios/link-down.js";
import { rollout } from "./scenarios/rollout.js";
import { twoDirectories } from "./scenarios/two-directories.js";

/** Five hosts: four under s6, one under systemd as PID 1 of a box; web2's state on a small file system. */
const SPECS: HostSpec[] = [
  { name: "web1", roles: ["webgateway"], supervisor: "s6" },
  { name: "web2", roles: ["webgateway"], supervisor: "s6", smallState: true },
  { name: "web3", roles: ["webgateway", "redis"], supervisor: "s6" },
  { name: "db1", roles: ["postgresql15", "redis"], supervisor: "s6" },
  { name: "sys1", roles: ["webgateway", "postgresql15", "redis"], supervisor: "systemd" },
];
/** The agents' timer at test speed: a run every 2 s (plus a random splay), where hosts run every 10 minutes. */
const TIMER_MS = 2_000;

const unavailable = process.getuid?.() !== 0 ? "network namespaces need root" : (boxUnavailable ?? noPostgres);
// On CI a missing prerequisite fails the suite instead of skipping it.
const skip = unavailable !== undefined && !process.env.CI;
const noFaketime = spawnSync("sh", ["-c", "command -v faketime"]).status === 0 || process.env.CI ? undefined : "faketime is not installed (apt-get install faketime; scripts/install-deps.sh does)";

/**
 * The fleet's infrastructure tests (`npm run test:infra`): one fleet, the scenarios in order,
 * each probing every host's services all through, then the table of what each one cost.
 */
(skip ? describe.skip : describe)(`a fleet in network namespaces, faults injected${skip ? ` (skipped: ${unavailable})` : ""}`, () => {
  let fleet: Fleet;
  const rows: Row[] = [];
  const started = Date.now();

  beforeAll(async () => {
    if (unavailable) throw new Error(`the infra suite cannot run: ${unavailable}`);
    fleet = await Fleet.start(SPECS, TIMER_MS);
  });

  afterAll(async () => {
    const failed = await fleet?.teardown.run();
    process.stdout.write(`\n${table(rows)}\n\ninfra suite: ${((Date.now() - started) / 1000).toFixed(0)} s${failed?.length ? `; teardown failures: ${failed.join("; ")}` : ""}\n`);
  });

  it("1. a fleet converges from nothing; a second run of every agent is a 304 and changes nothing", () => converge(fleet, rows));
  it("2. a release rolls out canary-first; a broken snippet on one canary halts it, the others keep serving the old release; fix forward completes it", () => rollout(fleet, rows));
  it("3. the directory's link goes down: agents serve from their saved description, queue reports and deliver them when it is back", () => linkDown(fleet, rows));
  it("4. two directory processes on one PostgreSQL: a consistent rollout; one killed mid-rollout, the other carries on", () => twoDirectories(fleet, rows));
  it("5. kill -9 of an agent at each step of an activation on a multi-service host: the next run leaves one complete generation", () => agentKilled(fleet, rows));
  it("6. the state file system fills up during a build: no partial store path, the old generation serves, a clear error; then the next run succeeds", () => diskFull(fleet, rows));
  itUnless(noFaketime)("7. a host whose clock is hours off still polls, reports and honours its maintenance window in its own time zone", () => clockSkew(fleet, rows));
});
