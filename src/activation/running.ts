import { readdirSync, readlinkSync } from "node:fs";
import path from "node:path";
import { configLink } from "../generation/paths.js";

/**
 * What each service runs now: the component store path its configuration link points at.
 * This, not the profile, is what a plan starts from: a restart deferred to the maintenance
 * window leaves its service on the older component while the profile has moved on.
 *
 * @example runningComponents("/var/lib/congruent") // { nginx: "/var/lib/congruent/store/…-nginx-config" }
 */
export function runningComponents(stateDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  let names: string[];
  try {
    names = readdirSync(path.join(stateDir, "services"));
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    try {
      out[name] = readlinkSync(configLink(stateDir, name));
    } catch {
      // not a service directory (e.g. the supervisor's own), or never started
    }
  }
  return out;
}
