import { readdirSync } from "node:fs";
import path from "node:path";
import { removeStaleTemps } from "../store/atomic.js";

/**
 * What a run killed at a rename(2) leaves in the directories activation writes: `.tmp-*`
 * links and files of a writer that is gone. Called under the state lock before an activation.
 */
export function removeLeftovers(stateDir: string): string[] {
  const services = path.join(stateDir, "services");
  let serviceDirs: string[] = [];
  try {
    serviceDirs = readdirSync(services).map((n) => path.join(services, n));
  } catch {
    // nothing activated yet
  }
  return [path.join(stateDir, "profiles"), path.join(stateDir, "gcroots"), path.join(stateDir, "activation"), services, ...serviceDirs].flatMap(removeStaleTemps);
}
