import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "vitest";
import { ALWAYS, type Fleet } from "../support/fleet.js";
import type { AgentRun } from "../support/host.js";
import type { Row } from "../support/ledger.js";
import { Scenario, until } from "../support/scenario.js";

const SKEW_HOURS = 7;
const ONE_PROCESS_CLOCK = pathToFileURL(path.join(import.meta.dirname, "../support/one-process-clock.mjs")).href;
const TIMEZONE = "Asia/Tokyo";
const HOUR_MS = 3_600_000;

const hourIn = (when: Date) => Number(new Intl.DateTimeFormat("en-US", { timeZone: TIMEZONE, hour: "2-digit", hourCycle: "h23" }).format(when));
const pad = (h: number) => String(h).padStart(2, "0");
/** A daily window from an hour before `when` (in TIMEZONE) to two hours after it. */
const around = (when: Date) => ({ schedule: `daily ${pad((hourIn(when) + 23) % 24)}:00-${pad((hourIn(when) + 2) % 24)}:00`, timezone: TIMEZONE });

/**
 * 7. One host's agent runs with its clock 7 hours ahead (Debian's faketime). It still polls and
 * reports (its reports carry its own time), and it honours its maintenance window in its own
 * time zone by its own clock: a restart waits while the window is open only by the true time,
 * and happens once the window is open by the host's clock.
 */
export async function clockSkew(fleet: Fleet, rows: Row[]): Promise<void> {
  const s = new Scenario(fleet, "7. a host's clock 7 hours ahead", rows);
  const host = fleet.host("web3");
  const directory = fleet.directories.find((d) => d.url === host.directoryUrl)!;
  const base = (await directory.admin.getHost(host.name)).host.settings;
  const timer = fleet.timer(host.name);
  const runAfter = (t: number, what: string, ok: (r: AgentRun) => boolean = () => true) =>
    until(() => host.runs.find((r) => r.began > t && r.out && ok(r)), 120_000, () => `${host.name}: ${what} (last: ${JSON.stringify(host.runs.at(-1)?.out?.report ?? host.runs.at(-1)?.stderr)})`);
  const redisPid = async () => (await host.status()).services.find((x) => x.name === "redis")!.pid;

  let opened = Infinity;
  let applied: AgentRun | undefined;
  try {
    // The agent's clock only (its children's stay true: see one-process-clock.mjs).
    timer.options = { wrapper: ["faketime", "-f", `+${SKEW_HOURS}h`], nodeArgs: ["--import", ONE_PROCESS_CLOCK] };
    let t = Date.now();
    const skewed = await runAfter(t, "a run with the skewed clock");
    expect(Date.parse(skewed.out!.report.startedAt) - skewed.began).toBeGreaterThan(SKEW_HOURS * HOUR_MS - 60_000);

    // Open by the true time, shut by the host's: a restart-only change waits, a reload applies.
    const pid = await redisPid();
    t = Date.now();
    await directory.admin.updateHost(host.name, { maintenanceWindow: around(new Date()), settings: { ...base, redis: { ...base.redis, databases: 32 }, nginx: { worker_processes: 3 } } });
    const deferred = await runAfter(t, "the restart deferred", (r) => r.out!.report.result === "deferred");
    expect(deferred.out!.report.deferred).toEqual([expect.objectContaining({ service: "redis", action: "restart" })]);
    expect(deferred.out!.report.plan).toContainEqual(expect.objectContaining({ service: "nginx", action: "reload" }));
    expect(await redisPid()).toBe(pid);

    // Open by the host's clock only: now it restarts.
    opened = Date.now();
    await directory.admin.updateHost(host.name, { maintenanceWindow: around(new Date(Date.now() + SKEW_HOURS * HOUR_MS)) });
    applied = await runAfter(opened, "the restart applied in the window", (r) => r.out!.report.result === "switched");
    expect(applied.out!.report.plan).toContainEqual(expect.objectContaining({ service: "redis", action: "restart" }));
    expect(await redisPid()).not.toBe(pid);
    await runAfter(applied.ended, "a run that finds nothing changed", (r) => r.out!.report.result === "unchanged");

    // The directory has its reports, stamped by the host's clock.
    const stored = await directory.admin.listReports(host.name, 3);
    for (const r of stored) expect(Math.abs(Date.parse(r.startedAt) - Date.parse(r.receivedAt) - SKEW_HOURS * HOUR_MS)).toBeLessThan(5 * 60_000);
  } finally {
    timer.options = {};
    await directory.admin.updateHost(host.name, { maintenanceWindow: ALWAYS });
  }
  await s.end({
    faults: `${host.name}'s agent clock +${SKEW_HOURS} h (faketime), window in ${TIMEZONE}`,
    // The restart the window allowed: Redis is away while it restarts.
    expectedOutage: (f) => f.host === host.name && f.service === "redis" && f.at >= opened && f.at <= applied!.ended,
    outage: "while Redis restarted in its window",
  });
}
