import type { DirectoryClient } from "../../../src/directory/client.js";
import type { FleetHost } from "./host.js";

/** One line of the suite's table. */
export interface Row {
  scenario: string;
  hosts: number;
  faults: string;
  answers: { ok: number; total: number; note?: string };
  reportsLost: number;
  dataLost: number;
}

/**
 * Reports lost: runs of these hosts that began at or after `since` and printed a report that the
 * directory does not have. Call it once the outboxes are empty (every report delivered or lost).
 * Each report is matched by its own startedAt, as the agent wrote it (a skewed clock included).
 */
export async function lostReports(admin: DirectoryClient, hosts: FleetHost[], since: number): Promise<string[]> {
  const lost: string[] = [];
  for (const host of hosts) {
    const made = host.runs.filter((r) => r.began >= since && r.out).map((r) => r.out!.report);
    if (made.length === 0) continue;
    const stored = new Set((await admin.listReports(host.name, 1000)).map((r) => `${r.startedAt} ${r.result}`));
    for (const report of made) if (!stored.has(`${report.startedAt} ${report.result}`)) lost.push(`${host.name}: ${report.result} report of ${report.startedAt}`);
  }
  return lost;
}

/** Agent runs that ended without a report although nothing was meant to kill them. */
export function runsWithoutReport(hosts: FleetHost[], since: number, killedOnPurpose: (host: string, began: number) => boolean = () => false): string[] {
  return hosts.flatMap((h) => h.runs.filter((r) => r.began >= since && !r.out && !killedOnPurpose(h.name, r.began)).map((r) => `${h.name}: exit ${r.exit}: ${r.stderr.trim().slice(-500)}`));
}

/** The table, as markdown (the README's "Testing the fleet" shows one from a real run). */
export function table(rows: Row[]): string {
  const lines = [
    "| scenario | hosts | faults injected | service answers (ok/total) | reports lost | data lost |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.scenario} | ${r.hosts} | ${r.faults} | ${r.answers.ok}/${r.answers.total}${r.answers.note ? ` (${r.answers.note})` : ""} | ${r.reportsLost} | ${r.dataLost} |`),
  ];
  return lines.join("\n");
}
