import { mkdirSync, rmSync } from "node:fs";
import { CongruentError } from "../errors.js";
import { replaceSymlink } from "../store/atomic.js";
import { component } from "../components/registry.js";
import type { LiveContext, SettingChange } from "../components/component.js";
import { readComponent, type ComponentMeta } from "../generation/metadata.js";
import { configLink, dataDir, logDir, runtimeDir, secretsDir } from "../generation/paths.js";
import type { ServiceManager } from "../services/manager.js";
import { faultPoint } from "./fault-point.js";
import { writeJournal, type Journal } from "./journal.js";
import type { PlanEntry } from "./plan.js";

export interface ExecuteContext {
  stateDir: string;
  manager: ServiceManager;
  /** How long a started, restarted or reloaded service may take to pass its health check. */
  healthTimeoutMs?: number;
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

async function runningPid(ctx: ExecuteContext, service: string): Promise<number> {
  const status = await ctx.manager.status(service);
  if (status.state !== "running" || !status.pid) throw new CongruentError("E_ACTIVATION", `${service}: not running after activation (state ${status.state})`);
  return status.pid;
}

function liveContext(ctx: ExecuteContext, service: string, componentPath: string): LiveContext {
  return {
    service,
    configDir: componentPath,
    meta: readComponent(componentPath),
    stateDir: ctx.stateDir,
    runtimeDir: runtimeDir(ctx.stateDir, service),
    logDir: logDir(ctx.stateDir, service),
    dataDir: dataDir(ctx.stateDir, service),
    secretsDir: secretsDir(ctx.stateDir),
    waitMs: ctx.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS,
  };
}

/**
 * Retry the component's health probe until it passes or the time is up; the error names the
 * service and the last reason (e.g. `connect ECONNREFUSED 127.0.0.1:6380`).
 */
async function waitHealthy(live: LiveContext): Promise<void> {
  const probe = component(live.service)?.health;
  if (!probe) return;
  const deadline = Date.now() + live.waitMs;
  let reason = "no answer";
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    try {
      await probe(live);
      return;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() + delay > deadline) break;
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new CongruentError("E_ACTIVATION", `${live.service}: not healthy within ${(live.waitMs / 1000).toFixed(1)} s: ${reason}`);
}

/** The service's own words about why it failed: the last few distinct error lines of its log. */
export function notable(lines: string[]): string[] {
  const errors = lines
    .filter((l) => /\b(FATAL|ERROR|PANIC|emerg|alert|crit|error)\b|could not|already in use|failed/i.test(l))
    // Drop the software's own timestamp and pid prefix: "2026-… GMT [9299] FATAL:  x" → "FATAL: x".
    .map((l) => l.replace(/^.*?\b(FATAL|ERROR|PANIC|LOG|WARNING):\s+/, "$1: ").replace(/\s+/g, " ").trim());
  return [...new Set(errors)].slice(-3);
}

/** Settings whose change class is `runtime` and whose value differs between two components. */
function runtimeChanges(from: ComponentMeta, to: ComponentMeta): SettingChange[] {
  const names = new Set([...Object.keys(from.settings), ...Object.keys(to.settings)]);
  return [...names]
    .filter((n) => (to.settings[n] ?? from.settings[n])!.change === "runtime" && from.settings[n]?.value !== to.settings[n]?.value)
    .map((n) => ({ name: n, from: from.settings[n]?.value, to: to.settings[n]?.value }));
}

/** Carry out one plan entry. Every step is idempotent, so a resumed journal may repeat it. */
export async function executeStep(ctx: ExecuteContext, step: PlanEntry): Promise<void> {
  const { stateDir, manager } = ctx;
  if (step.action === "stop") {
    await manager.remove(step.service);
    rmSync(configLink(stateDir, step.service), { force: true });
    return;
  }
  const live = liveContext(ctx, step.service, step.to!);
  const hooks = component(step.service);
  // The running service reads its configuration through this link; a reload sees the new files.
  replaceSymlink(step.to!, configLink(stateDir, step.service));
  mkdirSync(live.runtimeDir, { recursive: true });
  mkdirSync(live.logDir, { recursive: true });
  switch (step.action) {
    case "none":
      return;
    case "swap":
      // A new binary at the same path, taken over without dropping a connection; the new main
      // process must serve once the old workers are retired, or the old one takes over again.
      await manager.swapBinary(live.meta.service, () => waitHealthy(live));
      await runningPid(ctx, step.service);
      await hooks?.ensure?.(live);
      return;
    case "start":
    case "restart":
      await hooks?.prepare?.(live);
      await manager.install(live.meta.service);
      if (step.action === "start") await manager.start(step.service);
      else await manager.restart(step.service);
      await runningPid(ctx, step.service);
      await waitHealthy(live);
      await hooks?.ensure?.(live);
      return;
    case "reload":
    case "runtime": {
      const pid = await runningPid(ctx, step.service);
      if (step.action === "reload") {
        // Reached only with a reload signal (the plan restarts otherwise).
        const mark = await hooks?.markBeforeReload?.(live, pid);
        await manager.reload(step.service);
        await hooks?.confirmReload?.(live, pid, mark);
      }
      // A reload that also carries runtime-class changes applies those too (the plan lets the
      // strongest class win, but every change must reach the process).
      const changes = step.from ? runtimeChanges(readComponent(step.from), live.meta) : [];
      if (changes.length > 0 && hooks?.applyRuntime) await hooks.applyRuntime(live, changes);
      const after = await runningPid(ctx, step.service);
      if (after !== pid) throw new CongruentError("E_ACTIVATION", `${step.service}: main process changed during ${step.action} (${pid} → ${after})`);
      await waitHealthy(live);
      await hooks?.ensure?.(live);
      return;
    }
  }
}

/**
 * Run a journal's remaining steps in order (stops first, as planned), crossing each off on disk.
 * Progress lines go to `log` (stderr for people; silent with --json).
 */
export async function executeJournal(ctx: ExecuteContext, journal: Journal, log: (line: string) => void): Promise<void> {
  for (const [i, step] of journal.steps.entries()) {
    if (step.done) continue;
    if (step.action !== "none") log(`${step.action} ${step.service}${step.why.length ? `: ${step.why.join("; ")}` : ""}`);
    try {
      await executeStep(ctx, step);
    } catch (error) {
      let message = error instanceof Error ? error.message : String(error);
      if (!message.startsWith(step.service)) message = `${step.service}: ${step.action} failed: ${message}`;
      // Whatever failed (the step or the health check after it), the server's own words say why.
      const said = notable(await ctx.manager.recentLog(step.service, 40).catch(() => []));
      if (said.length) message += `; its log says: ${said.join(" / ")}`;
      throw new CongruentError("E_ACTIVATION", message);
    }
    step.done = true;
    writeJournal(ctx.stateDir, journal);
    faultPoint(`after-step-${i + 1}`);
  }
}
