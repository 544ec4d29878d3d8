import { mkdirSync, rmSync } from "node:fs";
import { CongruentError } from "../errors.js";
import { replaceSymlink } from "../store/atomic.js";
import { component } from "../components/registry.js";
import { readComponent } from "../generation/metadata.js";
import { configLink, logDir, runtimeDir } from "../generation/paths.js";
import type { ServiceManager } from "../services/manager.js";
import { writeJournal, type Journal } from "./journal.js";
import type { PlanEntry } from "./plan.js";

export interface ExecuteContext {
  stateDir: string;
  manager: ServiceManager;
}

async function runningPid(ctx: ExecuteContext, service: string): Promise<number> {
  const status = await ctx.manager.status(service);
  if (status.state !== "running" || !status.pid) throw new CongruentError("E_ACTIVATION", `${service}: not running after activation (state ${status.state})`);
  return status.pid;
}

/** Carry out one plan entry. Every step is idempotent, so a resumed journal may repeat it. */
export async function executeStep(ctx: ExecuteContext, step: PlanEntry): Promise<void> {
  const { stateDir, manager } = ctx;
  if (step.action === "stop") {
    await manager.remove(step.service);
    rmSync(configLink(stateDir, step.service), { force: true });
    return;
  }
  const meta = readComponent(step.to!);
  // The running service reads its configuration through this link; a reload sees the new files.
  replaceSymlink(step.to!, configLink(stateDir, step.service));
  mkdirSync(runtimeDir(stateDir, step.service), { recursive: true });
  mkdirSync(logDir(stateDir, step.service), { recursive: true });
  switch (step.action) {
    case "none":
      return;
    case "start":
      await manager.install(meta.service);
      await manager.start(step.service);
      await runningPid(ctx, step.service);
      return;
    case "restart":
      await manager.install(meta.service);
      await manager.restart(step.service);
      await runningPid(ctx, step.service);
      return;
    case "reload":
    case "runtime": {
      // Reached only with a reload signal (the plan restarts otherwise); "runtime" changes
      // without a component hook are applied the same way.
      const hooks = component(step.service);
      const pid = await runningPid(ctx, step.service);
      const mark = await hooks?.markBeforeReload?.(pid);
      await manager.reload(step.service);
      await hooks?.confirmReload?.(pid, mark);
      const after = await runningPid(ctx, step.service);
      if (after !== pid) throw new CongruentError("E_ACTIVATION", `${step.service}: main process changed during reload (${pid} → ${after})`);
      return;
    }
  }
}

/**
 * Run a journal's remaining steps in order (stops first, as planned), crossing each off on disk.
 * Progress lines go to `log` (stderr for people; silent with --json).
 */
export async function executeJournal(ctx: ExecuteContext, journal: Journal, log: (line: string) => void): Promise<void> {
  for (const step of journal.steps) {
    if (step.done) continue;
    if (step.action !== "none") log(`${step.action} ${step.service}${step.why.length ? `: ${step.why.join("; ")}` : ""}`);
    try {
      await executeStep(ctx, step);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new CongruentError("E_ACTIVATION", message.startsWith(step.service) ? message : `${step.service}: ${step.action} failed: ${message}`);
    }
    step.done = true;
    writeJournal(ctx.stateDir, journal);
  }
}
