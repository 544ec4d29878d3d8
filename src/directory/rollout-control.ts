import type { HostState, ChannelRecord } from "./storage.js";
import { RequestError } from "./http.js";

/**
 * An admin's pause: the rollout halts where it is (canaries keep the release, everyone else
 * stays on the previous one) until resumed. Only a rollout in its canary phase can pause.
 */
export function pause(c: ChannelRecord, by: string, at: string): ChannelRecord {
  const r = c.rollout;
  if (!r || r.state !== "canary") throw new RequestError("E_DIRECTORY_CONFLICT", `channel ${c.name} has no rollout in its canary phase to pause${r ? ` (rollout of ${r.release} is ${r.state})` : ""}`);
  return { ...c, rollout: { ...r, state: "halted", paused: { by, at } } };
}

/**
 * Resume a halted rollout, paused by an admin or halted by a failed canary (after a fix):
 * back to the canary phase with the failures cleared. What the canaries reported meanwhile
 * counts as applyReport would have counted it (`members`: the channel's hosts as they last
 * reported): a canary that ran the release is done, one that deferred a restart waits for its
 * window. When every canary is done the rollout completes at once; a canary that fails again
 * halts it again.
 */
export function resume(c: ChannelRecord, members: HostState[]): ChannelRecord {
  const r = c.rollout;
  if (!r || r.state !== "halted") throw new RequestError("E_DIRECTORY_CONFLICT", `channel ${c.name} has no halted rollout to resume${r ? ` (rollout of ${r.release} is ${r.state})` : ""}`);
  const onIt = (h: HostState) => r.canaryHosts.includes(h.name) && h.lastRelease?.channel === c.name && h.lastRelease.number === r.release;
  const ran = new Set(members.filter((h) => onIt(h) && (h.lastResult === "switched" || h.lastResult === "unchanged")).map((h) => h.name));
  const deferred = new Set(members.filter((h) => onIt(h) && h.lastResult === "deferred").map((h) => h.name));
  const succeeded = [...new Set([...r.succeeded.filter((h) => !deferred.has(h)), ...ran])];
  const waiting = [...new Set([...(r.waiting ?? []).filter((h) => !ran.has(h)), ...deferred])];
  const done = r.canaryHosts.length > 0 && r.canaryHosts.every((h) => succeeded.includes(h));
  const next = { ...r, state: done ? ("complete" as const) : ("canary" as const), succeeded, waiting, failed: [] };
  delete next.paused;
  return { ...c, rollout: next };
}
