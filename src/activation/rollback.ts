import { CongruentError } from "../errors.js";
import type { ServiceManager } from "../services/manager.js";
import { generations } from "../store/profiles.js";
import { activate, type ActivateResult } from "./switch.js";

/**
 * Activate the generation before the current one, with the same planning as a switch
 * (a snippet change rolled back is a reload, not a restart). Like Nix, the profile then
 * points at the older generation; the newer one stays listed until gc.
 *
 * @example await rollback({ stateDir, manager })
 */
export async function rollback(opts: { stateDir: string; manager: ServiceManager; dryRun?: boolean; healthTimeoutMs?: number; log?: (line: string) => void }): Promise<ActivateResult> {
  const all = generations(opts.stateDir);
  const now = all.find((g) => g.current);
  if (!now) throw new CongruentError("E_NO_GENERATION", `${opts.stateDir}: no active generation to roll back from`);
  const before = all.filter((g) => g.number < now.number).pop();
  if (!before) throw new CongruentError("E_NO_GENERATION", `${opts.stateDir}: generation ${now.number} is the oldest; nothing to roll back to`);
  return activate({ ...opts, target: before.path, generationNumber: before.number });
}
