import type { HostState, ChannelRecord } from "./storage.js";
import { RequestError } from "./http.js";

const SUCCESS = new Set(["switched", "unchanged", "deferred"]);

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
 * back to the canary phase with the failures cleared; canaries that reported success on the
 * release meanwhile count (`members`: the channel's hosts as they last reported). When every
 * canary already succeeded the rollout completes at once. A canary that fails again halts it again.
 */
export function resume(c: ChannelRecord, members: HostState[]): ChannelRecord {
  const r = c.rollout;
  if (!r || r.state !== "halted") throw new RequestError("E_DIRECTORY_CONFLICT", `channel ${c.name} has no halted rollout to resume${r ? ` (rollout of ${r.release} is ${r.state})` : ""}`);
  const ranIt = new Set(members.filter((h) => h.lastRelease?.channel === c.name && h.lastRelease.number === r.release && SUCCESS.has(h.lastResult ?? "")).map((h) => h.name));
  const succeeded = [...new Set([...r.succeeded, ...r.canaryHosts.filter((h) => ranIt.has(h))])];
  const done = r.canaryHosts.length > 0 && r.canaryHosts.every((h) => succeeded.includes(h));
  const next = { ...r, state: done ? ("complete" as const) : ("canary" as const), succeeded, failed: [] };
  delete next.paused;
  return { ...c, rollout: next };
}
