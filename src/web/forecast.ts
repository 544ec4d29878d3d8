import type { MaintenanceWindow } from "../directory/api.js";
import type { PreviewClass } from "./preview.js";
import { nextWindow } from "./windows.js";

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
  const applyAfter = (start: Date, h: ForecastHost): { at: Date; why: string } => {
    const run = new Date(start.getTime() + agentIntervalMs);
    const restart = h.action === "restart" || h.action === "unknown";
    if (!restart || !h.window) return { at: run, why: h.action === "none" ? "no change for this host: at its next run" : `${h.action}: at its next agent run` };
    const at = nextWindow(run, h.window);
    return { at, why: `${h.action === "unknown" ? "may restart" : "restart"}: in its window ${h.window.schedule} ${h.window.timezone}` };
  };
  const canaries = hosts.filter((h) => h.canary).map((h) => ({ h, ...applyAfter(now, h) }));
  const canaryEnd = new Date(Math.max(now.getTime(), ...canaries.map((c) => c.at.getTime())));
  const rest = hosts.filter((h) => !h.canary).map((h) => {
    if (opts.halted) return { host: h.host, by: null, why: "after the rollout resumes" };
    const r = applyAfter(canaryEnd, h);
    return { host: h.host, by: r.at.toISOString(), why: canaries.length ? `after the canaries (by ${canaryEnd.toISOString().slice(0, 16)}Z); ${r.why}` : r.why };
  });
  return [...canaries.map((c) => ({ host: c.h.host, by: c.at.toISOString(), why: `canary; ${c.why}` })), ...rest];
}
