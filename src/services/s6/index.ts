import { promises as fs } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { CongruentError } from "../../errors.js";
import type { ServiceDefinition, ServiceManager, ServiceStatus } from "../manager.js";
import { isTimeout, s6 } from "./exec.js";
import { fifoHasReader, waitFor } from "./proc.js";
import { checkDefinition, renderFinishScript, renderLogRunScript, renderRunScript, signalName, svcFlagFor } from "./run-script.js";
import { type ServiceFiles, writeServiceDir } from "./service-dir.js";
import { SVSTAT_FIELDS, parseSvstat } from "./svstat.js";
import { Svscan } from "./svscan.js";

const RELOAD_SIGNAL_FILE = "congruent-reload-signal";
const OPTIONAL_FILES = ["down-signal", RELOAD_SIGNAL_FILE];
/** s6-supervise SIGKILLs a service still up this long after its down signal. */
const KILL_AFTER_MS = 10_000;
const PICKUP_TIMEOUT_MS = 5_000;
const UP_TIMEOUT_MS = 5_000;
const DOWN_TIMEOUT_MS = KILL_AFTER_MS + 2_000;

/**
 * Services under s6 (Debian's `s6` package): one s6-svscan per state directory, scanning
 * `<state>/services/s6/scan/`; each service logs through s6-log into `<state>/log/<name>/`.
 *
 * @example
 *   const manager = new S6Manager({ stateDir: "/var/lib/congruent" });
 *   await manager.ensureRunning();
 *   await manager.install({ name: "web", command: ["/usr/sbin/nginx", "-c", conf], reloadSignal: "HUP" });
 *   await manager.reload("web");
 */
export class S6Manager implements ServiceManager {
  readonly kind = "s6" as const;
  readonly scanDir: string;
  private readonly svscan: Svscan;
  private starting: Promise<number> | null = null;

  constructor(private readonly options: { stateDir: string }) {
    const root = path.join(path.resolve(options.stateDir), "services", "s6");
    this.scanDir = path.join(root, "scan");
    this.svscan = new Svscan(this.scanDir, path.join(root, "svscan.pid"), path.join(path.resolve(options.stateDir), "log", "s6-svscan.log"));
  }

  /** Fast when s6-svscan already runs: two small file reads, no spawn. */
  async ensureRunning(): Promise<void> {
    // Concurrent callers in one process share one start; s6-svscan's lock guards across processes.
    this.starting ??= this.svscan.ensure().finally(() => (this.starting = null));
    await this.starting;
  }

  /**
   * Write the service dir and bring the service up. A changed definition of a running service
   * is written but not applied: the process keeps running until restart() (the caller decides).
   * An unchanged definition writes nothing. Takes ~20 ms for a new service, less when unchanged.
   */
  async install(def: ServiceDefinition): Promise<void> {
    checkDefinition(def);
    await this.ensureRunning();
    const logDir = path.join(path.resolve(this.options.stateDir), "log", def.name);
    await fs.mkdir(logDir, { recursive: true });
    const files: ServiceFiles = {
      run: { content: renderRunScript(def), mode: 0o755 },
      finish: { content: renderFinishScript(), mode: 0o755 },
      "log/run": { content: renderLogRunScript(logDir), mode: 0o755 },
      "timeout-kill": { content: `${KILL_AFTER_MS}\n`, mode: 0o644 },
    };
    if (def.stopSignal !== undefined) files["down-signal"] = { content: `SIG${signalName(def.stopSignal)}\n`, mode: 0o644 };
    if (def.reloadSignal !== undefined) files[RELOAD_SIGNAL_FILE] = { content: `${signalName(def.reloadSignal)}\n`, mode: 0o644 };
    const dir = this.dir(def.name);
    await writeServiceDir(dir, path.join(this.scanDir, "..", "tmp"), files, OPTIONAL_FILES);
    if (!(await this.supervised(dir))) {
      await this.svscan.rescan();
      if (!(await waitFor(() => this.supervised(dir), PICKUP_TIMEOUT_MS))) {
        throw new CongruentError("E_SERVICE", `service "${def.name}": s6-svscan did not pick up ${dir} within ${PICKUP_TIMEOUT_MS} ms`);
      }
    }
    await this.start(def.name);
  }

  async start(name: string): Promise<void> {
    await this.control(name, ["-u", "-wu"], UP_TIMEOUT_MS, "did not come up");
  }

  /** Sends the stop signal (default TERM) and waits until down; s6 SIGKILLs after 10 s. */
  async stop(name: string): Promise<void> {
    await this.control(name, ["-d", "-wd"], DOWN_TIMEOUT_MS, "did not go down");
  }

  /** Restarts (starts, when down) and returns once a new pid is up; s6 spaces starts ≥ 1 s apart. */
  async restart(name: string): Promise<void> {
    const before = await this.status(name);
    await this.control(name, ["-r", "-u", "-wr"], DOWN_TIMEOUT_MS + UP_TIMEOUT_MS, "did not restart");
    const fresh = async () => {
      const now = await this.status(name);
      return now.state === "running" && now.pid !== before.pid;
    };
    if (!(await waitFor(fresh, UP_TIMEOUT_MS, 50))) {
      throw new CongruentError("E_SERVICE", `service "${name}": no new process after restart (was pid ${before.pid})`);
    }
  }

  /** Sends the reload signal stored at install; the pid stays. Errors when none or not running. */
  async reload(name: string): Promise<void> {
    const dir = await this.installedDir(name);
    const signal = (await fs.readFile(path.join(dir, RELOAD_SIGNAL_FILE), "utf8").catch(() => "")).trim();
    if (signal === "") throw new CongruentError("E_SERVICE", `service "${name}" has no reload signal`);
    const { state } = await this.status(name);
    if (state !== "running") throw new CongruentError("E_SERVICE", `service "${name}" cannot be reloaded: it is ${state}`);
    await s6("s6-svc", [svcFlagFor(signal, name), dir]);
  }

  /**
   * s6-supervise follows only the process it started: a main process that starts its successor
   * and exits (a binary swap) looks like a crash to it, so the plan restarts instead.
   */
  binarySwapUnsupported(def: ServiceDefinition): string | undefined {
    return `s6 follows only the ${def.name} process it started, not a new one that replaces it (a binary swap needs systemd)`;
  }

  async swapBinary(def: ServiceDefinition): Promise<void> {
    throw new CongruentError("E_SERVICE", `service "${def.name}": ${this.binarySwapUnsupported(def)}`);
  }

  /** Stops the service, drops its dir and supervisors; idempotent. Its logs stay in <state>/log/<name>/. */
  async remove(name: string): Promise<void> {
    const dir = this.dir(name);
    if (!(await exists(dir))) return;
    if (await this.supervised(dir)) await this.stop(name);
    // Renaming first makes the removal atomic for s6-svscan; the supervisors keep their fifos.
    const doomed = path.join(this.scanDir, "..", "tmp", `removed-${name}-${randomBytes(4).toString("hex")}`);
    await fs.mkdir(path.dirname(doomed), { recursive: true });
    await fs.rename(dir, doomed);
    if ((await this.svscan.pid()) !== null) {
      await this.svscan.rescan(true);
      const gone = async () => !(await this.supervised(doomed)) && !(await fifoHasReader(path.join(doomed, "log", "supervise", "control")));
      if (!(await waitFor(gone, PICKUP_TIMEOUT_MS))) {
        throw new CongruentError("E_SERVICE", `service "${name}": its s6-supervise did not exit within ${PICKUP_TIMEOUT_MS} ms of removal`);
      }
    }
    await fs.rm(doomed, { recursive: true, force: true });
  }

  /**
   * One s6-svstat. An installed service whose supervisor is not running is "stopped";
   * a name that is not installed is an E_SERVICE error (a typo must not look like "stopped").
   */
  async status(name: string): Promise<ServiceStatus> {
    const dir = await this.installedDir(name);
    try {
      return parseSvstat(name, await s6("s6-svstat", ["-o", SVSTAT_FIELDS, dir]));
    } catch (error) {
      if (error instanceof CongruentError && /s6-supervise not running|unable to read status/.test(error.message)) {
        return { name, state: "stopped", pid: null };
      }
      throw error;
    }
  }

  async recentLog(name: string, lines: number): Promise<string[]> {
    const text = await fs.readFile(path.join(path.resolve(this.options.stateDir), "log", name, "current"), "utf8").catch(() => "");
    // s6-log's T prefix: "2026-11-25 09:55:23.708881387  " (ISO 8601 with nanoseconds, two spaces).
    return text.split("\n").filter(Boolean).slice(-lines).map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ {2}/, ""));
  }

  async list(): Promise<string[]> {
    const entries = await fs.readdir(this.scanDir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name).sort();
  }

  /** Stops every service (in parallel), then s6-svscan; returns when none of their processes is left. */
  async down(): Promise<void> {
    // A service that will not stop must not keep s6-svscan up: terminate anyway, then report.
    const stops = (await this.svscan.pid()) === null ? [] : await Promise.allSettled((await this.list()).map((name) => this.stop(name)));
    await this.svscan.terminate();
    const failed = stops.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
  }

  private dir(name: string): string {
    return path.join(this.scanDir, name);
  }

  private async installedDir(name: string): Promise<string> {
    const dir = this.dir(name);
    if (!/^[a-z0-9-]+$/.test(name) || !(await exists(path.join(dir, "run")))) {
      throw new CongruentError("E_SERVICE", `service "${name}" is not installed in ${this.scanDir}`);
    }
    return dir;
  }

  /**
   * Its s6-supervise listens on the control fifo (what s6-svok checks, without a spawn) and
   * has written its status file: a fresh s6-supervise opens the fifo a moment before the
   * status exists, and `s6-svc -wu` in that moment fails with "unable to s6_svstatus_read".
   */
  private async supervised(dir: string): Promise<boolean> {
    return (await fifoHasReader(path.join(dir, "supervise", "control"))) && (await exists(path.join(dir, "supervise", "status")));
  }

  private async control(name: string, flags: string[], timeoutMs: number, failure: string): Promise<void> {
    const dir = await this.installedDir(name);
    if (!(await this.supervised(dir))) {
      throw new CongruentError("E_SERVICE", `service "${name}" ${failure}: it is not supervised (s6-svscan down? call ensureRunning())`);
    }
    try {
      await s6("s6-svc", [...flags, "-T", String(timeoutMs), dir], timeoutMs + 5_000);
    } catch (error) {
      if (!isTimeout(error)) throw error;
      throw new CongruentError("E_SERVICE", `service "${name}" ${failure} within ${timeoutMs} ms (log: ${path.resolve(this.options.stateDir, "log", name)})`);
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}
