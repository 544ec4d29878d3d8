import { readFileSync } from "node:fs";
import { expect } from "vitest";
import type { DirectoryProcess } from "../support/directory.js";
import type { Fleet } from "../support/fleet.js";
import { SystemdHost, type FleetHost } from "../support/host.js";
import type { Row } from "../support/ledger.js";
import { Scenario, until } from "../support/scenario.js";
import { allOn, canaryShare } from "./rollout.js";

/** What each directory tells about the rollout and every host's description (by ETag, with the host's own token). */
async function views(fleet: Fleet, directories: DirectoryProcess[]): Promise<string[]> {
  return Promise.all(
    directories.map(async (d) => {
      const status = await d.admin.channelStatus("stable");
      const etags = await Promise.all(fleet.hosts.map(async (h) => {
        const r = await d.client(readFileSync(h.tokenFile, "utf8").trim()).getConfig(h.name);
        return `${h.name}=${r.status === 200 ? r.etag : "304"}`;
      }));
      return JSON.stringify({ rollout: status.rollout, targets: status.hosts.map((h) => [h.name, h.target]), etags });
    }),
  );
}

/** Until both directories tell the same (each caches a rendered description for at most 5 s). */
const consistent = (fleet: Fleet, directories: DirectoryProcess[]) =>
  until(async () => { const [a, b] = await views(fleet, directories); return a === b ? a : undefined; }, 30_000, "both directories to agree");

async function pointAt(host: FleetHost, directory: DirectoryProcess): Promise<void> {
  host.directoryUrl = directory.url;
  if (host instanceof SystemdHost) await host.rewriteDropIn();
}

/**
 * 4. The fleet outgrows one directory machine: a second directory process on the same PostgreSQL,
 * the agents split across both. A rollout and its canary state read the same from both; one
 * directory is killed (-9) while its canary has reported and the other canary has not: the other
 * directory carries on, completes the rollout and serves its agents; the killed one's agents keep
 * serving and queue their reports until it is back.
 */
export async function twoDirectories(fleet: Fleet, rows: Row[]): Promise<void> {
  const s = new Scenario(fleet, "4. two directories on one PostgreSQL, one killed mid-rollout", rows);
  const [dir1] = fleet.directories;
  const dir2 = await fleet.addDirectory("dir2");
  const { share, canaries } = canaryShare(fleet.hosts, 2);
  // One canary on each directory, and one other host on the second.
  const [first, second] = canaries.map((c) => fleet.host(c)) as [FleetHost, FleetHost];
  const onDir2 = [second, fleet.hosts.find((h) => !canaries.includes(h.name))!];
  for (const h of onDir2) await pointAt(h, dir2);
  const onDir1 = fleet.hosts.filter((h) => !onDir2.includes(h));
  await consistent(fleet, [dir1!, dir2]);

  // Promoted through the second directory; the second canary waits (its timer paused).
  await fleet.timer(second.name).pause();
  const release = await dir2.admin.createRelease("stable", { version: "2026.12.3", defaults: { webgateway: { nginx: { worker_processes: 2, keepalive_timeout: 20 } } } });
  await dir2.admin.promote("stable", { number: release.number, canaryShare: share });
  await until(async () => (await dir2.admin.channelStatus("stable")).rollout?.succeeded.includes(first.name), 120_000, `${first.name} to report the release through the first directory`);
  const mid = JSON.parse(await consistent(fleet, [dir1!, dir2])) as { rollout: { state: string; succeeded: string[] } };
  expect(mid.rollout).toMatchObject({ state: "canary", succeeded: [first.name] });

  const killed = Date.now();
  let downFor = "";
  try {
    dir1!.kill9();
    fleet.timer(second.name).resume();
    await until(async () => (await dir2.admin.channelStatus("stable")).rollout?.state === "complete", 120_000, "the second directory to complete the rollout");
    await allOn(fleet, release.number, onDir2);
    // The first directory's agents ran without it meanwhile, serving, their reports queued.
    await until(() => onDir1.every((h) => h.runs.some((r) => r.began > killed && r.out?.delivered === false)), 120_000, "a run of every agent of the killed directory");
  } finally {
    // The first directory comes back (its machine rebooted); its agents deliver what they queued.
    if (!dir1!.pid) await dir1!.start();
    downFor = ((Date.now() - killed) / 1000).toFixed(0);
  }
  await allOn(fleet, release.number);
  await consistent(fleet, [dir1!, dir2]);
  await s.end({ faults: `kill -9 of directory 1 of 2 mid-rollout, down ${downFor} s` });
}
