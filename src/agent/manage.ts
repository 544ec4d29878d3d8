import path from "node:path";
import { CongruentError, type ErrorCode } from "../errors.js";
import type { HostConfig, Report } from "../directory/api.js";
import type { ActivateResult } from "../activation/switch.js";
import type { PlanEntry } from "../activation/plan.js";
import type { ServiceManager } from "../services/manager.js";
import type { StoreEngine } from "../store/engine.js";
import { current } from "../store/profiles.js";
import { withLock } from "../store/lock.js";
import { writeFileAtomic } from "../store/atomic.js";
import { readSystem } from "../generation/metadata.js";
import { serviceStatuses } from "../activation/statuses.js";
import { agentDir, outbox, saved, type LastRun } from "./saved.js";
import { exposure } from "./exposure.js";
import { fingerprint } from "./fingerprint.js";
import { inWindow } from "./window.js";
import { checkWindow } from "../schema/window.js";
import { describeIssue } from "../schema/issue.js";

/** The two calls the agent makes; `DirectoryClient` provides them. */
export interface DirectoryPort {
  getConfig(host: string, etag?: string): Promise<{ status: 200; etag: string; config: HostConfig } | { status: 304 }>;
  postReport(host: string, report: Report): Promise<unknown>;
}

export interface ManageOptions {
  hostName: string;
  stateDir: string;
  localDir: string;
  directory: DirectoryPort;
  store: StoreEngine;
  manager: ServiceManager;
  /** Apply restarts now, even outside the maintenance window. */
  force?: boolean;
  /** Bound on each service's health check (the switch's --health-timeout). */
  healthTimeoutMs?: number;
  now?: () => Date;
  log?: (line: string) => void;
  /** Called at every step, so a watchdog can tell a run that makes progress from one that hangs. */
  progress?: (step: string) => void;
}

export interface ManageResult {
  report: Report;
  /** Whether the report reached the directory (else it waits in the outbox). */
  delivered: boolean;
}

const UNREACHABLE: ErrorCode = "E_DIRECTORY_UNREACHABLE";
const isUnreachable = (error: unknown) => error instanceof CongruentError && error.code === UNREACHABLE;
/** The directory is there but takes no report now (429): keep it for a later run, like an unreachable one. */
const isLater = (error: unknown) => isUnreachable(error) || (error as { status?: number }).status === 429;
const strip = (entries: PlanEntry[]) => entries.map(({ service, action, why }) => ({ service, action, why }));

/** The host description file the build reads, made from what the directory served. */
function writeHostFile(stateDir: string, config: HostConfig): string {
  const file = path.join(agentDir(stateDir), "host.json");
  const description = { ...config.host, ...(config.release ? { release: config.release } : {}) };
  writeFileAtomic(file, JSON.stringify(description, null, 2) + "\n");
  return file;
}

/**
 * One agent run: fetch the description (conditional GET), build and switch when an input
 * changed, defer restarts outside the maintenance window, report. Never needs inbound access.
 * Runs under the state lock, so it never overlaps a switch or another run.
 *
 * @example await manageOnce({ hostName: "web1", stateDir, localDir, directory: client, store, manager })
 */
export async function manageOnce(opts: ManageOptions): Promise<ManageResult> {
  const log = opts.log ?? (() => {});
  const progress = opts.progress ?? (() => {});
  const now = opts.now ?? (() => new Date());
  const startedAt = now();
  const t0 = performance.now();
  const durations: Record<string, number> = {};
  const warnings: string[] = [];
  const lap = (name: string, since: number) => (durations[name] = Math.round(performance.now() - since));

  return withLock(opts.stateDir, async () => {
    await flushOutbox(opts, log);
    progress("fetch");
    let t = performance.now();
    const before = saved.description(opts.stateDir);
    let description = before;
    let fresh = false;
    try {
      const got = await opts.directory.getConfig(opts.hostName, before?.etag);
      if (got.status === 200) {
        description = { etag: got.etag, config: got.config, fetchedAt: startedAt.toISOString() };
        saved.saveDescription(opts.stateDir, description);
        fresh = got.etag !== before?.etag;
      }
    } catch (error) {
      if (!isUnreachable(error) || !before) throw error;
      const warning = `directory unreachable (${(error as Error).message}); using the description saved at ${before.fetchedAt}`;
      warnings.push(warning);
      log(`warning: ${warning}`);
    }
    lap("fetch", t);
    const config = description!.config;
    const release = config.release ? { channel: config.release.channel, number: config.release.number } : null;
    const finish = async (fields: Partial<Report> & Pick<Report, "result">): Promise<ManageResult> => {
      lap("total", t0);
      const report: Report = { generation: current(opts.stateDir)?.path ?? null, release, plan: [], deferred: [], durations, services: [], warnings, startedAt: startedAt.toISOString(), finishedAt: now().toISOString(), ...fields };
      return { report, delivered: await deliver(opts, report, log) };
    };

    // The directory checks the window; one it stored before it did must not fail halfway through a switch.
    const windowIssue = config.maintenanceWindow ? checkWindow(config.maintenanceWindow)[0] : undefined;
    if (windowIssue) {
      const error = `the directory's description is invalid: maintenanceWindow.${describeIssue(windowIssue)}; nothing was changed`;
      log(`error: ${error}`);
      return finish({ result: "failed", error });
    }

    // Releases only move forward, unless an admin rolled the channel back on purpose.
    const applied = saved.release(opts.stateDir);
    if (release && applied && applied.channel === release.channel && release.number < applied.number && !config.rolledBack) {
      const error = `stale input: the directory serves release ${release.number} of channel ${release.channel}, older than release ${applied.number} this host runs; refusing to go back without an explicit channel rollback`;
      log(`error: ${error}`);
      return finish({ result: "stale", error });
    }

    const active = current(opts.stateDir)?.path ?? null;
    const print = fingerprint(opts.localDir, active);
    const last = saved.lastRun(opts.stateDir);
    if (!fresh && last && active && last.generation === active && last.etag === description!.etag && last.fingerprint === print && last.deferred === 0) {
      log("nothing changed: no build");
      const known = await exposureOf(opts, active, last.exposure, warnings);
      if (known !== last.exposure) saved.saveLastRun(opts.stateDir, { ...last, exposure: known });
      return finish({ result: "unchanged", services: await serviceStates(opts, active), ...counts(known, last.exposure) });
    }

    progress("build");
    t = performance.now();
    const { buildGeneration } = await import("../generation/build.js");
    const { activate } = await import("../activation/switch.js");
    let result: ActivateResult;
    let target: string | undefined;
    try {
      const built = await buildGeneration({ hostFile: writeHostFile(opts.stateDir, config), localDir: opts.localDir, stateDir: opts.stateDir, store: opts.store });
      target = built.generation;
      lap("build", t);
      // A generation that failed and was rolled back would fail the same way, restarting its
      // services twice on every timer run: wait for new inputs (or --force).
      const failed = saved.failed(opts.stateDir);
      if (failed?.generation === built.generation && !opts.force) {
        const error = `not retried: the same generation failed at ${failed.at} (${failed.error}); change the inputs or run with --force`;
        log(`error: ${error}`);
        return finish({ result: "failed", error, services: await serviceStates(opts, current(opts.stateDir)?.path ?? null) });
      }
      progress("activate");
      t = performance.now();
      const window = config.maintenanceWindow;
      // A restart waits for the host's window; a host without one waits for --force.
      const defer = (entry: PlanEntry) => entry.action === "restart" && !opts.force && (window === null || !inWindow(now(), window));
      result = await activate({ stateDir: opts.stateDir, manager: opts.manager, target: built.generation, defer, healthTimeoutMs: opts.healthTimeoutMs, log: (line) => (progress(line), log(line)) });
      lap("activate", t);
    } catch (error) {
      saved.forgetLastRun(opts.stateDir);
      const message = error instanceof Error ? error.message : String(error);
      if (target && error instanceof CongruentError && error.code === "E_ACTIVATION") saved.saveFailed(opts.stateDir, { generation: target, error: message, at: now().toISOString() });
      log(`error: ${message}`);
      return finish({ result: "failed", error: message, services: await serviceStates(opts, current(opts.stateDir)?.path ?? null) });
    }
    saved.forgetFailed(opts.stateDir);
    if (release) saved.saveRelease(opts.stateDir, release);
    const known = await exposureOf(opts, result.generation, last?.exposure, warnings);
    saved.saveLastRun(opts.stateDir, { etag: description!.etag, fingerprint: fingerprint(opts.localDir, result.generation), generation: result.generation, deferred: result.deferred.length, exposure: known });
    return finish({
      ...counts(known, last?.exposure),
      result: result.deferred.length > 0 ? "deferred" : result.result === "unchanged" ? "unchanged" : "switched",
      generation: result.generation,
      plan: strip(result.plan),
      deferred: strip(result.deferred),
      services: await serviceStates(opts, result.generation),
    });
  });
}

/** The generation's vulnscan counts; a scan that fails is a warning, never a failed run. */
async function exposureOf(opts: ManageOptions, generation: string, last: LastRun["exposure"], warnings: string[]): Promise<LastRun["exposure"]> {
  opts.progress?.("vulnscan");
  try {
    return await exposure(opts.stateDir, generation, last);
  } catch (error) {
    warnings.push(`vulnscan: ${(error as Error).message}`);
    return undefined;
  }
}

/** The counts in every report; the findings themselves only when they were found anew (the directory keeps the last ones). */
const counts = (e: LastRun["exposure"], before: LastRun["exposure"]) =>
  e ? { vulnerabilities: { total: e.total, whitelisted: e.whitelisted, ...(e.findings && e !== before ? { findings: e.findings } : {}) } } : {};

async function serviceStates(opts: ManageOptions, generation: string | null): Promise<Report["services"]> {
  if (!generation) return [];
  const names = Object.keys(readSystem(generation).components);
  const statuses = await serviceStatuses(opts.manager, names, true);
  return names.map((name) => ({ name, state: statuses.get(name)?.state ?? "stopped", pid: statuses.get(name)?.pid ?? null }));
}

/** Post a report; if the directory cannot be reached, keep it for a later run. */
async function deliver(opts: ManageOptions, report: Report, log: (line: string) => void): Promise<boolean> {
  try {
    await opts.directory.postReport(opts.hostName, report);
    return true;
  } catch (error) {
    if (!isLater(error)) throw error;
    outbox.put(opts.stateDir, report);
    log(`warning: report kept in the outbox until the directory takes it (${(error as Error).message})`);
    return false;
  }
}

/** Send reports earlier runs could not deliver, oldest first; stop at the first failure. */
async function flushOutbox(opts: ManageOptions, log: (line: string) => void): Promise<void> {
  for (const { file, report } of outbox.list(opts.stateDir)) {
    try {
      await opts.directory.postReport(opts.hostName, report);
      outbox.remove(file);
    } catch (error) {
      if (isLater(error)) return;
      log(`warning: dropping an undeliverable report (${(error as Error).message})`);
      outbox.remove(file);
    }
  }
}
