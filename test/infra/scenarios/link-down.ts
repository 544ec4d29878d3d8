import { expect } from "vitest";
import type { Fleet } from "../support/fleet.js";
import type { Row } from "../support/ledger.js";
import { get } from "../support/probes.js";
import { Scenario, until } from "../support/scenario.js";

/**
 * 3. The directory machine's cable is pulled (its veth goes down; the process runs on). Every
 * agent keeps serving from its saved description (a customer's change on web1 is even applied
 * meanwhile) and queues its reports; when the link is back, the queued reports are delivered.
 */
export async function linkDown(fleet: Fleet, rows: Row[]): Promise<void> {
  const s = new Scenario(fleet, "3. the directory's link down, then back", rows);
  const directory = fleet.directories[0]!;
  const web1 = fleet.host("web1");
  const down = Date.now();
  fleet.network.setLink(directory.node, false);
  try {
    web1.writeSite("v3-offline");
    // Every host has finished a run without the directory, its report kept.
    await until(() => fleet.hosts.every((h) => h.runs.some((r) => r.began > down && r.out?.delivered === false)), 180_000, "a run of every host while the directory is unreachable");
    for (const h of fleet.hosts) {
      const offline = h.runs.find((r) => r.began > down)!.out!;
      expect(offline.report.warnings.join("\n"), h.name).toMatch(/directory unreachable .*using the description saved at/);
      expect(h.outbox().length, h.name).toBeGreaterThan(0);
    }
    const applied = web1.runs.find((r) => r.began > down && r.out?.report.result === "switched");
    expect(applied, "web1 applies its customer's change from the saved description").toBeDefined();
    expect((await get(web1.address)).body).toBe("web1 v3-offline\n");
  } finally {
    fleet.network.setLink(directory.node, true);
  }
  const queued = fleet.hosts.map((h) => h.runs.filter((r) => r.began > down && r.out?.delivered === false).length).reduce((a, b) => a + b, 0);
  await s.end({ faults: `directory veth down ${((Date.now() - down) / 1000).toFixed(0)} s (${queued} reports queued)` });
}
