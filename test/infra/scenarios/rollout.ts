import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { canaryScore } from "../../../src/directory/rollout.js";
import type { Fleet } from "../support/fleet.js";
import type { FleetHost } from "../support/host.js";
import type { Row } from "../support/ledger.js";
import { Scenario, until } from "../support/scenario.js";

/** The canary share that makes exactly the `n` lowest-scoring hosts canaries. */
export function canaryShare(hosts: FleetHost[], n: number): { share: number; canaries: string[] } {
  const sorted = [...hosts].sort((a, b) => canaryScore(a.name) - canaryScore(b.name));
  return { share: canaryScore(sorted[n - 1]!.name) + 1, canaries: sorted.slice(0, n).map((h) => h.name).sort() };
}

/** Until every host's latest run reported running `release`. */
export function allOn(fleet: Fleet, release: number, hosts = fleet.hosts): Promise<true> {
  return until(
    () => hosts.every((h) => { const last = h.runs.at(-1)?.out?.report; return last?.release?.number === release && ["switched", "unchanged"].includes(last.result); }) || undefined,
    180_000,
    () => `every host on release ${release}: ${hosts.map((h) => `${h.name} ${JSON.stringify(h.runs.at(-1)?.out?.report.release ?? null)} ${h.runs.at(-1)?.out?.report.result}`).join(", ")}`,
  );
}

const BROKEN = "broken.conf";

/**
 * 2. A release rolls out canary-first. On one canary a customer has just dropped a snippet nginx
 * rejects: its build fails, the rollout halts, that canary keeps its running generation, every
 * other host keeps the old release and everything keeps serving. Fix forward (the snippet fixed,
 * a new release promoted) completes the rollout everywhere.
 */
export async function rollout(fleet: Fleet, rows: Row[]): Promise<void> {
  const s = new Scenario(fleet, "2. canary rollout halted by a broken snippet, fixed forward", rows);
  const { share, canaries } = canaryShare(fleet.hosts, 2);
  const broken = fleet.hosts.find((h) => canaries.includes(h.name) && fleet.spec(h.name).roles.includes("webgateway"))!;
  const others = fleet.hosts.filter((h) => !canaries.includes(h.name));
  const generationBefore = (await broken.status()).generation;

  const defaults = { webgateway: { nginx: { worker_processes: 2, keepalive_timeout: 30 } } };
  const from = (await fleet.admin.channelStatus("stable")).current!;

  // The customer's typo, on the canary, as the release arrives.
  const snippet = path.join(broken.localDir, "nginx", BROKEN);
  writeFileSync(snippet, `server {\n    listen ${broken.address}:8081;\n    locaton / { return 200 "extra\\n"; }\n}\n`);
  try {
    await haltedByCanary(fleet, { defaults, share, canaries, broken, others, from, generationBefore });
  } finally {
    // Fix forward: the customer corrects the snippet; a new release goes out, canaries first again.
    rmSync(snippet, { force: true });
  }
  const fixed = await fleet.admin.createRelease("stable", { version: "2026.12.2", defaults });
  await fleet.admin.promote("stable", { number: fixed.number, canaryShare: share });
  await until(async () => (await fleet.admin.channelStatus("stable")).rollout?.state === "complete", 120_000, "the fixed-forward rollout to complete");
  await allOn(fleet, fixed.number);
  await s.end({ faults: `a snippet nginx rejects, on canary ${broken.name}` });
}

/** The release goes out; the broken canary halts it; nobody else moves and everyone serves. */
async function haltedByCanary(
  fleet: Fleet,
  o: { defaults: Record<string, Record<string, Record<string, number>>>; share: number; canaries: string[]; broken: FleetHost; others: FleetHost[]; from: number; generationBefore: string | null },
): Promise<void> {
  const { broken, others, canaries } = o;
  const release = await fleet.admin.createRelease("stable", { version: "2026.12.1", defaults: o.defaults });
  const promoted = await fleet.admin.promote("stable", { number: release.number, canaryShare: o.share });
  expect(promoted.rollout?.canaryHosts).toEqual(canaries);

  const halted = await until(async () => { const st = await fleet.admin.channelStatus("stable"); return st.rollout?.state === "halted" ? st : undefined; }, 120_000, "the rollout to halt");
  expect(halted.rollout!.failed).toEqual([{ host: broken.name, error: expect.stringContaining(`${BROKEN}:3: unknown directive "locaton"`) }]);
  // The canary still runs what it ran; the others are still given the old release and stay on it.
  const failedRun = await until(() => broken.runs.findLast((r) => r.out?.report.release?.number === release.number), 30_000, "the canary's failed run");
  expect(failedRun.out!.report.result).toBe("failed");
  expect((await broken.status()).generation).toBe(o.generationBefore);
  const since = Date.now();
  await until(() => others.every((h) => h.runs.filter((r) => r.began > since).length >= 2), 120_000, "two more runs of every other host");
  for (const h of others) expect(h.runs.at(-1)!.out!.report, h.name).toMatchObject({ result: "unchanged", release: { number: o.from } });
  expect(halted.hosts.filter((h) => !canaries.includes(h.name)).map((h) => h.target)).toEqual(others.map(() => o.from));
}
