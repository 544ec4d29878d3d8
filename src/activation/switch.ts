import { CongruentError } from "../errors.js";
import { readSystem } from "../generation/metadata.js";
import type { ServiceManager } from "../services/manager.js";
import { addGeneration, current, setCurrent } from "../store/profiles.js";
import { executeJournal, executeStep, type ExecuteContext } from "./execute.js";
import { clearJournal, readJournal, writeJournal, type Journal } from "./journal.js";
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

export interface ActivateResult {
  generation: string;
  previous: string | null;
  plan: PlanEntry[];
  /** Entries not executed because `defer` held them back; the service runs its older component. */
  deferred: PlanEntry[];
  result: "switched" | "unchanged" | "dry-run";
}

/** Finish an activation a killed run left behind, so the host is on one complete generation. */
async function resumePending(ctx: ExecuteContext, log: (line: string) => void): Promise<void> {
  const journal = readJournal(ctx.stateDir);
  if (!journal) return;
  log(`finishing an interrupted activation of ${journal.target}`);
  await executeJournal(ctx, journal, log);
  await setCurrent(ctx.stateDir, journal.generationNumber);
  clearJournal(ctx.stateDir);
}

/**
 * Activate `target`: plan service by service against the active generation, run the plan
 * through the service manager (journalled), then flip the profile link atomically. If a step
 * fails, the previous generation is activated again and the error says which service failed.
 *
 * @example await activate({ stateDir, manager, target: build.generation })
 */
export async function activate(opts: ActivateOptions): Promise<ActivateResult> {
  const log = opts.log ?? (() => {});
  const ctx: ExecuteContext = { stateDir: opts.stateDir, manager: opts.manager, healthTimeoutMs: opts.healthTimeoutMs };
  const after = readSystem(opts.target).components;
  const planNow = async (tolerant: boolean) => makePlan(runningComponents(opts.stateDir), after, await serviceStatuses(opts.manager, Object.keys(after), tolerant));
  if (opts.dryRun) {
    const plan = await planNow(true);
    return { generation: opts.target, previous: current(opts.stateDir)?.path ?? null, plan, deferred: plan.filter((p) => opts.defer?.(p)), result: "dry-run" };
  }
  return withLock(opts.stateDir, async () => {
    await opts.manager.ensureRunning();
    await resumePending(ctx, log);
    const previous = current(opts.stateDir)?.path ?? null;
    const plan = await planNow(false);
    const deferred = plan.filter((p) => p.action !== "none" && opts.defer?.(p));
    const unchanged = previous === opts.target && plan.every((p) => p.action === "none" || deferred.includes(p));
    if (unchanged) return { generation: opts.target, previous, plan, deferred, result: "unchanged" };

    const generationNumber = opts.generationNumber ?? (await addGeneration(opts.stateDir, opts.target)).number;
    const steps = plan.filter((p) => !deferred.includes(p)).map((p) => ({ ...p, done: false }));
    const journal: Journal = { target: opts.target, previous, generationNumber, steps };
    writeJournal(opts.stateDir, journal);
    try {
      await executeJournal(ctx, journal, log);
    } catch (error) {
      clearJournal(opts.stateDir);
      await revert(ctx, previous, log);
      const reason = error instanceof Error ? error.message : String(error);
      throw new CongruentError("E_ACTIVATION", `${reason}; ${previous ? `rolled back to ${previous}` : "stopped what had started"}`);
    }
    await setCurrent(opts.stateDir, generationNumber);
    clearJournal(opts.stateDir);
    for (const entry of deferred) log(`deferred ${entry.action} ${entry.service}: ${entry.why.join("; ")}`);
    return { generation: opts.target, previous, plan, deferred, result: "switched" };
  });
}

/** Put the services back as `previous` had them (best effort: report, never mask the cause). */
async function revert(ctx: ExecuteContext, previous: string | null, log: (line: string) => void): Promise<void> {
  log(`activation failed; returning to ${previous ?? "no generation"}`);
  const after = previous ? readSystem(previous).components : {};
  const back = makePlan(runningComponents(ctx.stateDir), after, await serviceStatuses(ctx.manager, Object.keys(after), true));
  for (const step of back) {
    try {
      await executeStep(ctx, step);
    } catch (error) {
      log(`while returning to ${previous ?? "no generation"}: ${step.service}: ${(error as Error).message}`);
    }
  }
}
