import { createHash } from "node:crypto";
import type { Report } from "./api.js";
import type { ChannelRecord } from "./storage.js";
import { RequestError } from "./http.js";

/**
 * How a release travels through a channel. Promoting release N makes it the channel's
 * `current` and starts a rollout: the canary hosts get N at once, every other host keeps
 * `previous` until all canaries have reported applying all of it (then the rollout is
 * `complete`; a canary that deferred a restart to its window is `waiting`); one canary
 * reporting failure halts it: the canaries keep N (an admin fixes forward with a new
 * release or rolls back on purpose) and everyone else stays on `previous`.
 * These functions are pure: the routes run them inside `Storage.updateChannel`.
 */

/** A host's place in 0..99, stable across runs and processes: sha256(name) mod 100. */
export function canaryScore(host: string): number {
  return Number(BigInt(`0x${createHash("sha256").update(host).digest("hex")}`) % 100n);
}

/** Hosts whose score is below `share`; at least one (the lowest score) when there are hosts. */
export function pickCanaries(hosts: string[], share: number): string[] {
  const picked = hosts.filter((h) => canaryScore(h) < share).sort();
  if (picked.length > 0 || hosts.length === 0) return picked;
  const lowest = [...hosts].sort((a, b) => canaryScore(a) - canaryScore(b) || a.localeCompare(b))[0]!;
  return [lowest];
}

/** The release number a host of this channel is to run now. */
export function effectiveRelease(c: ChannelRecord, host: string): number | null {
  const r = c.rollout;
  if (!r) return c.current;
  switch (r.state) {
    case "complete":
      return r.release;
    // Halted, the canaries keep the release they were given (those that applied it must not be
    // pushed back: releases only move forward unless an admin rolls back) and the rest stay put.
    case "halted":
    case "canary":
      return r.canaryHosts.includes(host) ? r.release : c.previous;
  }
}

/** The channel after promoting `number` to hosts `hosts` (the channel's members now). */
export function promote(c: ChannelRecord, number: number, share: number, hosts: string[], now: string): ChannelRecord {
  if (c.current !== null && number < c.current) {
    throw new RequestError("E_DIRECTORY_CONFLICT", `release ${number} is older than channel ${c.name}'s current release ${c.current}; use rollback to go back on purpose`, "number");
  }
  const unfinished = c.rollout !== null && c.rollout.state !== "complete";
  if (number === c.current && !unfinished) {
    throw new RequestError("E_DIRECTORY_CONFLICT", `release ${number} is already channel ${c.name}'s current release`, "number");
  }
  // Who is not a canary keeps what they run now: the old `previous` while a rollout was unfinished.
  const previous = unfinished ? c.previous : c.current;
  const canaryHosts = share >= 100 ? [] : pickCanaries(hosts, share);
  const state = canaryHosts.length === 0 ? "complete" : "canary";
  return { ...c, current: number, previous, rolledBack: false, rollout: { release: number, state, canaryHosts, succeeded: [], failed: [], startedAt: now } };
}

/** An admin's deliberate move back to an older release: everyone gets it, agents accept it. */
export function rollback(c: ChannelRecord, number: number): ChannelRecord {
  if (c.current === null || number >= c.current) {
    throw new RequestError("E_DIRECTORY_CONFLICT", `release ${number} is not older than channel ${c.name}'s current release ${c.current ?? "(none)"}`, "number");
  }
  return { ...c, current: number, previous: c.current, rolledBack: true, rollout: null };
}

const applied = new Set<Report["result"]>(["switched", "unchanged", "deferred"]);
const failure = new Set<Report["result"]>(["failed", "timeout", "stale"]);

/**
 * The channel after a host's report, or null when the report does not move the rollout. A
 * canary counts as a success only once it applied everything: one that deferred a restart to
 * its window runs the new release's reloads but not the restart, which is the part most likely
 * to break, so the rollout waits for it (`waiting`) until it reports again.
 */
export function applyReport(c: ChannelRecord, host: string, report: Report): ChannelRecord | null {
  const r = c.rollout;
  if (!r || r.state !== "canary" || !r.canaryHosts.includes(host)) return null;
  if (report.release?.channel !== c.name || report.release.number !== r.release) return null;
  const waiting = r.waiting ?? [];
  if (report.result === "deferred" || (applied.has(report.result) && report.deferred.length > 0)) {
    if (waiting.includes(host)) return null;
    return { ...c, rollout: { ...r, waiting: [...waiting, host], succeeded: r.succeeded.filter((h) => h !== host) } };
  }
  if (applied.has(report.result)) {
    if (r.succeeded.includes(host)) return null;
    const succeeded = [...r.succeeded, host];
    const done = r.canaryHosts.every((h) => succeeded.includes(h));
    return { ...c, rollout: { ...r, succeeded, waiting: waiting.filter((h) => h !== host), state: done ? "complete" : "canary" } };
  }
  if (failure.has(report.result)) {
    return { ...c, rollout: { ...r, state: "halted", waiting: waiting.filter((h) => h !== host), failed: [...r.failed, { host, error: report.error ?? report.result }] } };
  }
  return null;
}

/**
 * An admin's decision to give the release to everyone without waiting for the canaries (some
 * wait for their windows, or never report): the rollout completes, marked as forced.
 */
export function continueRollout(c: ChannelRecord, now: string): ChannelRecord {
  const r = c.rollout;
  if (r?.state !== "canary") {
    const why = !r ? "has no rollout" : r.state === "halted" ? "is halted by a failed canary; fix forward with a new release, or roll back" : "is complete";
    throw new RequestError("E_DIRECTORY_CONFLICT", `channel ${c.name}'s rollout ${why}: nothing to continue`);
  }
  return { ...c, rollout: { ...r, state: "complete", forcedAt: now } };
}

/**
 * The channel after a host left it (deleted, or moved to another channel) during a canary
 * phase. When the remaining canaries have all succeeded (and at least one did) the rollout
 * completes; with no canary left it waits for a new promote rather than ship untested.
 */
export function forgetHost(c: ChannelRecord, host: string): ChannelRecord | null {
  const r = c.rollout;
  if (!r || r.state !== "canary" || !r.canaryHosts.includes(host)) return null;
  const canaryHosts = r.canaryHosts.filter((h) => h !== host);
  const succeeded = r.succeeded.filter((h) => h !== host);
  const waiting = (r.waiting ?? []).filter((h) => h !== host);
  const done = succeeded.length > 0 && canaryHosts.every((h) => succeeded.includes(h));
  return { ...c, rollout: { ...r, canaryHosts, succeeded, waiting, state: done ? "complete" : "canary" } };
}
