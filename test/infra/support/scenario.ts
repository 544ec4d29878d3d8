import { expect } from "vitest";
import type { Fleet } from "./fleet.js";
import { lostReports, runsWithoutReport, type Row } from "./ledger.js";
import type { Failure, Tally } from "./probes.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns something truthy; fails naming `what` after `ms`. */
export async function until<T>(check: () => T | Promise<T>, ms: number, what: string | (() => string)): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(200);
  }
}

/** Check every millisecond (for moments that last a few: a build's scratch); false if `stop()` came first. */
export function watch(check: () => boolean, stop: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const seen = check();
      if (!seen && !stop()) return;
      clearInterval(timer);
      resolve(seen);
    }, 1);
  });
}

export interface ScenarioEnd {
  faults: string;
  /** Probe failures the scenario causes on purpose (a restart in the maintenance window), and what they were. */
  expectedOutage?: (f: Failure) => boolean;
  outage?: string;
  /** Agent runs the scenario killed on purpose (they print no report). */
  killedOnPurpose?: (host: string, began: number) => boolean;
}

/**
 * One scenario's bookkeeping: from `begin` every probe answer is counted; `end` waits until
 * every agent delivered what it queued, then checks that the directory has every report an
 * agent made and that every key and row a service acknowledged is still there, and adds the
 * scenario's row to the table. Answers that fail outside `expectedOutage` fail the scenario.
 */
export class Scenario {
  readonly since = Date.now();
  private readonly tally: Tally;

  constructor(
    private readonly fleet: Fleet,
    readonly name: string,
    private readonly rows: Row[],
  ) {
    this.tally = fleet.prober.begin(name.split(".")[0]!);
  }

  async end(opts: ScenarioEnd): Promise<void> {
    const { fleet } = this;
    // Every timer runs again: a queued report goes out at the next run (the outbox is flushed first).
    for (const t of fleet.timers.values()) t.resume();
    await until(() => fleet.hosts.every((h) => h.outbox().length === 0), 120_000, () => `every outbox to be delivered (${fleet.hosts.map((h) => `${h.name}: ${h.outbox().length}`).join(", ")})`);
    await Promise.all(fleet.hosts.map((h) => h.settle()));
    fleet.prober.end();
    const lost = await lostReports(fleet.admin, fleet.hosts, this.since);
    const missing = await fleet.prober.verify(this.tally);
    const unexpected = this.tally.failures.filter((f) => !opts.expectedOutage?.(f));
    const expected = this.tally.failures.length - unexpected.length;
    const note = expected > 0 ? `${expected} ${opts.outage ?? "expected"}` : undefined;
    this.rows.push({ scenario: this.name, hosts: fleet.hosts.length, faults: opts.faults, answers: { ok: this.tally.ok, total: this.tally.total, note }, reportsLost: lost.length, dataLost: missing.length });
    expect(runsWithoutReport(fleet.hosts, this.since, opts.killedOnPurpose), "agent runs that ended without a report").toEqual([]);
    expect(lost, "reports lost").toEqual([]);
    expect(missing, "data lost").toEqual([]);
    expect(unexpected.map((f) => `${f.host} ${f.service} at +${((f.at - this.since) / 1000).toFixed(1)} s: ${f.error}`), "service answers that failed").toEqual([]);
  }
}
