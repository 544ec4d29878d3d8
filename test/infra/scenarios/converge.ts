import { expect } from "vitest";
import type { Fleet } from "../support/fleet.js";
import type { HostStatus } from "../support/host.js";
import type { Row } from "../support/ledger.js";
import { Scenario, until } from "../support/scenario.js";

/** How many `GET /v1/hosts/:name/config` the directory answered with `status`, from its own metrics. */
async function configAnswers(fleet: Fleet, status: number): Promise<number> {
  const text = await fleet.admin.metrics();
  const line = text.split("\n").find((l) => l.startsWith("congruent_directory_http_request_duration_seconds_count{") && l.includes('route="/v1/hosts/:name/config"') && l.includes(`status="${status}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/**
 * 1. From nothing (hosts in the directory, empty state directories), every agent's timer starts;
 * each host converges and its services are probed from the moment its agent reported them up.
 * Then a second run of every agent: a 304, no build, the same generation and the same PIDs.
 */
export async function converge(fleet: Fleet, rows: Row[]): Promise<void> {
  const s = new Scenario(fleet, "1. converge from nothing, then a second run", rows);
  for (const t of fleet.timers.values()) t.start();
  await Promise.all(
    fleet.hosts.map(async (h) => {
      await until(() => h.runs.find((r) => r.out?.report.result === "switched"), 240_000, () => `${h.name} to converge (${h.runs.map((r) => r.out?.report.error ?? `exit ${r.exit}: ${r.stderr.slice(-300)}`).join(" | ")})`);
      await fleet.prober.add(fleet.target(h));
    }),
  );
  for (const t of fleet.timers.values()) await t.pause();
  const before: Record<string, HostStatus> = {};
  for (const h of fleet.hosts) before[h.name] = await h.status();
  const notModified = await configAnswers(fleet, 304);
  const full = await configAnswers(fleet, 200);
  const second = await Promise.all(fleet.hosts.map((h) => h.run()));
  for (const run of second) expect(run.out?.report, `${run.host}: ${run.stderr}`).toMatchObject({ result: "unchanged", plan: [] });
  expect(await configAnswers(fleet, 304)).toBe(notModified + fleet.hosts.length);
  expect(await configAnswers(fleet, 200)).toBe(full);
  for (const h of fleet.hosts) expect(await h.status(), h.name).toEqual(before[h.name]);
  await s.end({ faults: "none" });
}
