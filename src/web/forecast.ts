import type { MaintenanceWindow } from "../directory/api.js";
import type { PreviewClass } from "./preview.js";
import { nextWindow } from "../agent/window.js";

export interface ForecastHost {
  host: string;
  canary: boolean;
  action: PreviewClass;
  window: MaintenanceWindow | null;
}

export interface Forecast {
  host: string;
  /** ISO time by which the host runs the release; null: not until an admin acts. */
  by: string | null;
  why: string;
}

/**
 * When each host would run a release promoted at `now`: canaries at their next agent run (a
 * restart waits for the host's window); everyone else once every canary has applied it, at
 * their own next run after that, a restart again in their window. `agentIntervalMs` bounds
 * how long until an agent's next run (the timer's interval plus its splay).
 *
 * @example forecastRollout(now, 13 * 60_000, [{ host: "db1", canary: true, action: "restart", window }])
 */
export function forecastRollout(now: Date, agentIntervalMs: number, hosts: ForecastHost[], opts: { halted?: boolean } = {}): Forecast[] {
  const applyAfter = (start: Date, h: ForecastHost): { at: Date | null; why: string } => {
    const run = new Date(start.getTime() + agentIntervalMs);
    const restart = h.action === "restart" || h.action === "unknown";
    if (!restart) return { at: run, why: h.action === "none" ? "no change for this host: at its next run" : `${h.action}: at its next agent run` };
    // Without a window a restart waits for an admin's `manage --force`.
    if (!h.window) return { at: null, why: `${h.action === "unknown" ? "may restart" : "restart"}: no maintenance window, waits for manage --force` };
    const at = nextWindow(run, h.window);
    return { at, why: `${h.action === "unknown" ? "may restart" : "restart"}: in its window ${h.window.schedule} ${h.window.timezone}` };
  };
  const canaries = hosts.filter((h) => h.canary).map((h) => ({ h, ...applyAfter(now, h) }));
  // The rest start once every canary has applied it: not at all while one of them waits for --force.
  const stuck = canaries.find((c) => c.at === null);
  const canaryEnd = new Date(Math.max(now.getTime(), ...canaries.map((c) => c.at?.getTime() ?? 0)));
  const rest = hosts.filter((h) => !h.canary).map((h): Forecast => {
    if (opts.halted) return { host: h.host, by: null, why: "after the rollout resumes" };
    if (stuck) return { host: h.host, by: null, why: `after canary ${stuck.h.host}, which waits for manage --force` };
    const r = applyAfter(canaryEnd, h);
    return { host: h.host, by: r.at?.toISOString() ?? null, why: canaries.length ? `after the canaries (by ${canaryEnd.toISOString().slice(0, 16)}Z); ${r.why}` : r.why };
  });
  return [...canaries.map((c) => ({ host: c.h.host, by: c.at?.toISOString() ?? null, why: `canary; ${c.why}` })), ...rest];
}
