import { CongruentError } from "../errors.js";
import { readSystem } from "../generation/metadata.js";
import type { ServiceManager } from "../services/manager.js";
import { withLock } from "../store/lock.js";
import { generations } from "../store/profiles.js";
import { readJournal } from "./journal.js";
import { makePlan } from "./plan.js";
import { runningComponents } from "./running.js";
import { serviceStatuses } from "./statuses.js";
import { activate, revertJournal, type ActivateResult } from "./switch.js";

export interface RollbackOptions {
  stateDir: string;
  manager: ServiceManager;
  dryRun?: boolean;
  healthTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * Go back to the generation that was active before: with the same planning as a switch (a
 * snippet change rolled back is a reload, not a restart). Like Nix, the profile then points at
 * the older generation; the newer one stays listed until gc.
 *
 * While an interrupted activation is pending, "before" is the generation active before it
 * began: rollback reverts it rather than finishing it. Otherwise it is the newest older
 * generation that is not the current one's store path (an older version could leave a
 * generation that never was active; rolling back to the same path would change nothing).
 *
 * @example await rollback({ stateDir, manager })
 */
export async function rollback(opts: RollbackOptions): Promise<ActivateResult> {
  const journal = readJournal(opts.stateDir);
  if (journal) return journal.previous === null ? revertFirst(opts) : rollbackInterrupted(opts, journal.target, journal.previous);
  const all = generations(opts.stateDir);
  const now = all.find((g) => g.current);
  if (!now) throw new CongruentError("E_NO_GENERATION", `${opts.stateDir}: no active generation to roll back from`);
  const before = all.filter((g) => g.number < now.number && g.path !== now.path).pop();
  if (!before) throw new CongruentError("E_NO_GENERATION", `${opts.stateDir}: generation ${now.number} is the oldest; nothing to roll back to`);
  return activate({ ...opts, target: before.path, generationNumber: before.number });
}

/** An interrupted activation of `target` is pending: return to `previous`, which it left. */
async function rollbackInterrupted(opts: RollbackOptions, target: string, previous: string): Promise<ActivateResult> {
  const planBack = async () => {
    const after = readSystem(previous).components;
    return makePlan(runningComponents(opts.stateDir), after, await serviceStatuses(opts.manager, Object.keys(after), true), opts.manager);
  };
  if (opts.dryRun) return { generation: previous, previous: target, plan: await planBack(), deferred: [], result: "dry-run" };
  return withLock(opts.stateDir, async () => {
    await opts.manager.ensureRunning();
    const journal = readJournal(opts.stateDir);
    if (!journal) return rollback(opts); // finished or reverted meanwhile: an ordinary rollback
    (opts.log ?? (() => {}))(`reverting the interrupted activation of ${journal.target}`);
    const plan = await revertJournal({ stateDir: opts.stateDir, manager: opts.manager, healthTimeoutMs: opts.healthTimeoutMs }, journal, opts.log ?? (() => {}));
    return { generation: previous, previous: target, plan, deferred: [], result: "switched" };
  });
}

/** The very first activation was interrupted: nothing was active before it, so its services stop. */
async function revertFirst(opts: RollbackOptions): Promise<ActivateResult> {
  if (!opts.dryRun) {
    await withLock(opts.stateDir, async () => {
      const journal = readJournal(opts.stateDir);
      if (journal) await revertJournal({ stateDir: opts.stateDir, manager: opts.manager, healthTimeoutMs: opts.healthTimeoutMs }, journal, opts.log ?? (() => {}));
    });
  }
  throw new CongruentError("E_NO_GENERATION", `${opts.stateDir}: no generation was active before the interrupted activation; ${opts.dryRun ? "rollback would stop its services" : "its services were stopped"}`);
}
