import { CongruentError } from "../errors.js";
import { readSystem } from "../generation/metadata.js";
import type { ServiceManager } from "../services/manager.js";
import { current, dropGeneration, generations, linkGeneration, nextGenerationNumber, setCurrent } from "../store/profiles.js";
import { faultPoint } from "./fault-point.js";
import { executeJournal, executeStep, type ExecuteContext } from "./execute.js";
import { clearJournal, readJournal, writeJournal, type Journal } from "./journal.js";
import { removeLeftovers } from "./leftovers.js";
import { withLock } from "../store/lock.js";
import { makePlan, type PlanEntry } from "./plan.js";
import { runningComponents } from "./running.js";
import { serviceStatuses } from "./statuses.js";

export interface ActivateOptions {
  stateDir: string;
  manager: ServiceManager;
  /** The generation to activate. */
  target: string;
  /** An existing profile generation to make current (rollback); a new one is added otherwise. */
  generationNumber?: number;
  dryRun?: boolean;
  /** Entries to leave for later (restarts outside the maintenance window); they stay pending. */
  defer?: (entry: PlanEntry) => boolean;
  log?: (line: string) => void;
  /** Bound on each service's health check after it was started, restarted or reloaded. */
  healthTimeoutMs?: number;
}

/** An interrupted activation this run finished before its own: its target and the steps it carried out. */
export interface Resumed {
  target: string;
  steps: PlanEntry[];
}

export interface ActivateResult {
  generation: string;
  previous: string | null;
  plan: PlanEntry[];
  /** Entries not executed because `defer` held them back; the service runs its older component. */
  deferred: PlanEntry[];
  /** `switched` also when only the finishing of an interrupted activation changed the host. */
  result: "switched" | "unchanged" | "dry-run";
  /** Present when this run first finished an activation a killed run left behind. */
  resumed?: Resumed;
}

const context = (opts: Pick<ActivateOptions, "stateDir" | "manager" | "healthTimeoutMs">): ExecuteContext => ({ stateDir: opts.stateDir, manager: opts.manager, healthTimeoutMs: opts.healthTimeoutMs });

const stripped = ({ done: _done, ...entry }: Journal["steps"][number]): PlanEntry => entry;

/**
 * Finish an activation a killed run left behind, so the host is on one complete generation.
 * If a step of it fails, the host returns to the generation active before it began, the
 * journal is cleared (no later run replays it) and the error says so.
 */
async function resumePending(ctx: ExecuteContext, log: (line: string) => void): Promise<Resumed | undefined> {
  const journal = readJournal(ctx.stateDir);
  if (!journal) return undefined;
  log(`finishing an interrupted activation of ${journal.target}`);
  const left = journal.steps.filter((s) => !s.done && s.action !== "none").map(stripped);
  try {
    if (journal.addsGeneration) linkGeneration(ctx.stateDir, journal.generationNumber, journal.target);
    await executeJournal(ctx, journal, log);
  } catch (error) {
    await revertJournal(ctx, journal, log);
    const reason = error instanceof Error ? error.message : String(error);
    throw new CongruentError("E_ACTIVATION", `the interrupted activation of ${journal.target} could not be finished: ${reason}; ${returnedTo(journal.previous)}`);
  }
  setCurrent(ctx.stateDir, journal.generationNumber);
  clearJournal(ctx.stateDir);
  return { target: journal.target, steps: left };
}

/**
 * Activate `target`: plan service by service against the active generation, write the plan
 * down, run it through the service manager, then flip the profile link atomically. If a step
 * fails, the previous generation is activated again and the error says which service failed.
 *
 * Order matters for kill -9 at any point: the journal is written before the generation link
 * is made (a kill between leaves a journal the next run finishes, never a generation no
 * activation reached), and the profile flips last.
 *
 * @example await activate({ stateDir, manager, target: build.generation })
 */
export async function activate(opts: ActivateOptions): Promise<ActivateResult> {
  const log = opts.log ?? (() => {});
  const ctx = context(opts);
  const after = readSystem(opts.target).components;
  const planNow = async (tolerant: boolean) =>
    makePlan(runningComponents(opts.stateDir), after, await serviceStatuses(opts.manager, Object.keys(after), tolerant), opts.manager);
  if (opts.dryRun) {
    const plan = await planNow(true);
    return { generation: opts.target, previous: current(opts.stateDir)?.path ?? null, plan, deferred: plan.filter((p) => opts.defer?.(p)), result: "dry-run" };
  }
  return withLock(opts.stateDir, async () => {
    await opts.manager.ensureRunning();
    removeLeftovers(opts.stateDir);
    const resumed = await resumePending(ctx, log);
    const previous = current(opts.stateDir)?.path ?? null;
    const plan = await planNow(false);
    const deferred = plan.filter((p) => p.action !== "none" && opts.defer?.(p));
    const unchanged = previous === opts.target && plan.every((p) => p.action === "none" || deferred.includes(p));
    if (unchanged) return { generation: opts.target, previous, plan, deferred, result: resumed ? "switched" : "unchanged", ...(resumed ? { resumed } : {}) };

    const generationNumber = opts.generationNumber ?? nextGenerationNumber(opts.stateDir, opts.target);
    const addsGeneration = !generations(opts.stateDir).some((g) => g.number === generationNumber);
    const steps = plan.filter((p) => !deferred.includes(p)).map((p) => ({ ...p, done: false }));
    const journal: Journal = { target: opts.target, previous, generationNumber, addsGeneration, steps };
    writeJournal(opts.stateDir, journal);
    faultPoint("after-journal");
    try {
      if (addsGeneration) linkGeneration(opts.stateDir, generationNumber, opts.target);
      faultPoint("after-link");
      await executeJournal(ctx, journal, log);
    } catch (error) {
      await revertJournal(ctx, journal, log);
      const reason = error instanceof Error ? error.message : String(error);
      throw new CongruentError("E_ACTIVATION", `${reason}; ${returnedTo(previous)}`);
    }
    setCurrent(opts.stateDir, generationNumber);
    faultPoint("after-flip");
    clearJournal(opts.stateDir);
    for (const entry of deferred) log(`deferred ${entry.action} ${entry.service}: ${entry.why.join("; ")}`);
    return { generation: opts.target, previous, plan, deferred, result: "switched", ...(resumed ? { resumed } : {}) };
  });
}

const returnedTo = (previous: string | null) => (previous ? `rolled back to ${previous}` : "stopped what had started");

/**
 * Undo an activation that did not complete: the services back as `journal.previous` has them,
 * the generation link it made removed (it never was active: rollback must not pick it), the
 * profile on `previous`, the journal cleared last (a kill before that repeats this or finishes
 * the activation, either way a complete generation). Returns the plan it ran.
 */
export async function revertJournal(ctx: ExecuteContext, journal: Journal, log: (line: string) => void): Promise<PlanEntry[]> {
  const back = await revert(ctx, journal.previous, log);
  const before = journal.previous === null ? undefined : generations(ctx.stateDir).find((g) => g.path === journal.previous && g.number !== journal.generationNumber);
  // Killed after the flip but before the journal was cleared: the profile names the target.
  if (before && current(ctx.stateDir)?.number !== before.number) setCurrent(ctx.stateDir, before.number);
  if (journal.addsGeneration) dropGeneration(ctx.stateDir, journal.generationNumber, journal.target);
  clearJournal(ctx.stateDir);
  return back;
}

/** Put the services back as `previous` had them (best effort: report, never mask the cause). */
async function revert(ctx: ExecuteContext, previous: string | null, log: (line: string) => void): Promise<PlanEntry[]> {
  log(`activation failed; returning to ${previous ?? "no generation"}`);
  const after = previous ? readSystem(previous).components : {};
  const back = makePlan(runningComponents(ctx.stateDir), after, await serviceStatuses(ctx.manager, Object.keys(after), true), ctx.manager);
  for (const step of back) {
    try {
      await executeStep(ctx, step);
    } catch (error) {
      log(`while returning to ${previous ?? "no generation"}: ${step.service}: ${(error as Error).message}`);
    }
  }
  return back;
}
