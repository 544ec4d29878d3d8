import { CongruentError } from "../errors.js";
import { readSystem } from "../generation/metadata.js";
import type { ServiceManager, ServiceStatus } from "../services/manager.js";
import { addGeneration, current, setCurrent } from "../store/profiles.js";
import { executeJournal, executeStep, type ExecuteContext } from "./execute.js";
import { clearJournal, readJournal, writeJournal, type Journal } from "./journal.js";
import { withLock } from "../store/lock.js";
import { makePlan, type PlanEntry } from "./plan.js";

export interface ActivateOptions {
  stateDir: string;
  manager: ServiceManager;
  /** The generation to activate. */
  target: string;
  /** An existing profile generation to make current (rollback); a new one is added otherwise. */
  generationNumber?: number;
  dryRun?: boolean;
  log?: (line: string) => void;
}

export interface ActivateResult {
  generation: string;
  previous: string | null;
  plan: PlanEntry[];
  result: "switched" | "unchanged" | "dry-run";
}

async function statuses(manager: ServiceManager, names: string[], tolerant: boolean): Promise<Map<string, ServiceStatus>> {
  const out = new Map<string, ServiceStatus>();
  const installed = new Set(await manager.list().catch(() => [] as string[]));
  for (const name of names) {
    if (!installed.has(name)) {
      out.set(name, { name, state: "stopped", pid: null });
      continue;
    }
    try {
      out.set(name, await manager.status(name));
    } catch (error) {
      if (!tolerant) throw error;
    }
  }
  return out;
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
  const ctx: ExecuteContext = { stateDir: opts.stateDir, manager: opts.manager };
  const services = Object.keys(readSystem(opts.target).components);
  if (opts.dryRun) {
    const active = current(opts.stateDir)?.path ?? null;
    const plan = makePlan(active, opts.target, await statuses(opts.manager, services, true));
    return { generation: opts.target, previous: active, plan, result: "dry-run" };
  }
  return withLock(opts.stateDir, async () => {
    await opts.manager.ensureRunning();
    await resumePending(ctx, log);
    const active = current(opts.stateDir);
    const previous = active?.path ?? null;
    const plan = makePlan(previous, opts.target, await statuses(opts.manager, services, false));
    const unchanged = previous === opts.target && plan.every((p) => p.action === "none");
    if (unchanged) return { generation: opts.target, previous, plan, result: "unchanged" };

    const generationNumber = opts.generationNumber ?? (await addGeneration(opts.stateDir, opts.target)).number;
    const journal: Journal = { target: opts.target, previous, generationNumber, steps: plan.map((p) => ({ ...p, done: false })) };
    writeJournal(opts.stateDir, journal);
    try {
      await executeJournal(ctx, journal, log);
    } catch (error) {
      clearJournal(opts.stateDir);
      await revert(ctx, opts.target, previous, log);
      const reason = error instanceof Error ? error.message : String(error);
      throw new CongruentError("E_ACTIVATION", `${reason}; ${previous ? `rolled back to ${previous}` : "stopped what had started"}`);
    }
    await setCurrent(opts.stateDir, generationNumber);
    clearJournal(opts.stateDir);
    return { generation: opts.target, previous, plan, result: "switched" };
  });
}

/** Put the services back as `previous` had them (best effort: report, never mask the cause). */
async function revert(ctx: ExecuteContext, failed: string, previous: string | null, log: (line: string) => void): Promise<void> {
  log(`activation failed; returning to ${previous ?? "no generation"}`);
  if (!previous) {
    for (const service of Object.keys(readSystem(failed).components)) {
      await ctx.manager.remove(service).catch(() => {});
    }
    return;
  }
  const services = Object.keys(readSystem(previous).components);
  const back = makePlan(failed, previous, await statuses(ctx.manager, services, true));
  for (const step of back) {
    try {
      await executeStep(ctx, step);
    } catch (error) {
      log(`while returning to ${previous}: ${step.service}: ${(error as Error).message}`);
    }
  }
}
