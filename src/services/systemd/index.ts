import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { CongruentError } from "../../errors.js";
import type { ServiceDefinition, ServiceManager, ServiceState, ServiceStatus } from "../manager.js";
import { escapePath, renderUnit, unitName } from "./unit.js";

const execFileAsync = promisify(execFile);

/**
 * Services as systemd units `congruent-<name>@<escaped state dir>.service` in `unitDir`
 * (default /etc/systemd/system), logging to the journal. Works only where systemd is PID 1.
 * Each state directory sees, lists and stops only its own units.
 *
 * @example
 *   const manager = new SystemdManager({ stateDir: "/var/lib/congruent" });
 *   await manager.install({ name: "web", command: ["/usr/sbin/nginx", "-c", conf], reloadSignal: "HUP" });
 *   // → /etc/systemd/system/congruent-web@var-lib-congruent.service, enabled and started
 */
export class SystemdManager implements ServiceManager {
  readonly kind = "systemd" as const;
  readonly unitDir: string;
  private readonly stateDir: string;

  constructor(options: { stateDir: string; unitDir?: string }) {
    this.unitDir = options.unitDir ?? "/etc/systemd/system";
    this.stateDir = path.resolve(options.stateDir);
  }

  private unit(name: string): string {
    return unitName(name, this.stateDir);
  }

  /** systemd is PID 1 or nothing: there is nothing to start, only to check. */
  async ensureRunning(): Promise<void> {
    const booted = await fs.access("/run/systemd/system").then(() => true, () => false);
    if (!booted) throw new CongruentError("E_SERVICE", "systemd is not running as PID 1 on this machine (use the s6 backend)");
  }

  /**
   * Writes the unit (only when its text changed, then `daemon-reload`), enables and starts it.
   * A changed unit of a running service is not applied until restart() (the caller decides).
   */
  async install(def: ServiceDefinition): Promise<void> {
    const text = renderUnit(def, this.stateDir);
    const file = path.join(this.unitDir, this.unit(def.name));
    if ((await fs.readFile(file, "utf8").catch(() => undefined)) !== text) {
      await fs.mkdir(this.unitDir, { recursive: true });
      await fs.writeFile(`${file}.tmp`, text);
      await fs.rename(`${file}.tmp`, file);
      await systemctl(["daemon-reload"]);
    }
    await systemctl(["enable", "--now", this.unit(def.name)]);
  }

  async start(name: string): Promise<void> {
    await systemctl(["start", await this.installed(name)]);
  }

  async stop(name: string): Promise<void> {
    await systemctl(["stop", await this.installed(name)]);
  }

  async restart(name: string): Promise<void> {
    await systemctl(["restart", await this.installed(name)]);
  }

  async reload(name: string): Promise<void> {
    await systemctl(["reload", await this.installed(name)]);
  }

  /** Stops, disables and deletes the unit; idempotent. */
  async remove(name: string): Promise<void> {
    const file = path.join(this.unitDir, this.unit(name));
    if (!(await fs.access(file).then(() => true, () => false))) return;
    await systemctl(["disable", "--now", this.unit(name)]);
    await fs.rm(file);
    await systemctl(["daemon-reload"]);
  }

  /** A name without a unit file is an E_SERVICE error, as with s6. */
  async status(name: string): Promise<ServiceStatus> {
    const out = await systemctl(["show", "-p", "MainPID,ActiveState,SubState", await this.installed(name)]);
    const props = Object.fromEntries(out.trim().split("\n").map((line) => line.split("=", 2) as [string, string]));
    const pid = Number(props.MainPID ?? 0);
    const state: ServiceState =
      props.ActiveState === "active" || props.ActiveState === "reloading"
        ? "running"
        : props.ActiveState === "failed" || props.SubState === "auto-restart"
          ? "failed"
          : "stopped";
    return { name, state, pid: state === "running" && pid > 0 ? pid : null };
  }

  /**
   * The service's own lines from the journal (`journalctl -u`), oldest first; systemd's lines
   * about the unit ("Failed with result …") are left out: they say that, not why.
   */
  async recentLog(name: string, lines: number): Promise<string[]> {
    const args = ["-u", this.unit(name), "-n", String(lines * 2), "--no-pager", "-o", "json", "--output-fields=MESSAGE,SYSLOG_IDENTIFIER"];
    const out = await execFileAsync("journalctl", args, { maxBuffer: 16 * 1024 * 1024 }).then((r) => r.stdout, () => "");
    const messages: string[] = [];
    for (const line of out.split("\n")) {
      if (!line) continue;
      const entry = JSON.parse(line) as { MESSAGE?: string | number[] | null; SYSLOG_IDENTIFIER?: string };
      if (entry.SYSLOG_IDENTIFIER === "systemd" || entry.MESSAGE === undefined || entry.MESSAGE === null) continue;
      // journald gives a message that is not valid UTF-8 as an array of bytes.
      messages.push(Array.isArray(entry.MESSAGE) ? Buffer.from(entry.MESSAGE).toString("utf8") : entry.MESSAGE);
    }
    return messages.slice(-lines);
  }

  /** The services of this state directory: units `congruent-*@<its instance>.service`. */
  async list(): Promise<string[]> {
    const files = await fs.readdir(this.unitDir).catch(() => []);
    const suffix = `@${escapePath(this.stateDir)}.service`;
    return files.flatMap((f) => (f.startsWith("congruent-") && f.endsWith(suffix) ? [f.slice("congruent-".length, -suffix.length)] : [])).filter((n) => /^[a-z0-9-]+$/.test(n)).sort();
  }

  /** Stops this state directory's units (another state directory's keep running); systemd (PID 1) stays. */
  async down(): Promise<void> {
    const units = (await this.list()).map((n) => this.unit(n));
    if (units.length > 0) await systemctl(["stop", ...units]);
  }

  binarySwapUnsupported(def: ServiceDefinition): string | undefined {
    if (!def.binarySwap || !def.daemon) return `${def.name} cannot replace its own binary while it runs`;
    return undefined;
  }

  /**
   * The reference procedure (nginx's USR2 → WINCH → QUIT): the old main process starts the new
   * binary, which writes the PID file; the old workers are retired; once `confirm` passes the
   * old main process quits and systemd, reading the PID file (PIDFile=), follows the new one.
   */
  async swapBinary(def: ServiceDefinition, confirm: () => Promise<void>): Promise<void> {
    const swap = def.binarySwap;
    const pidFile = def.daemon?.pidFile;
    if (!swap || !pidFile) throw new CongruentError("E_SERVICE", `service "${def.name}": ${this.binarySwapUnsupported(def)}`);
    const unit = await this.installed(def.name);
    const old = (await this.status(def.name)).pid;
    if (old === null) throw new CongruentError("E_SERVICE", `service "${def.name}" is not running: nothing to swap`);
    const signal = (sig: string, pid: number) => process.kill(pid, `SIG${sig.toUpperCase().replace(/^SIG/, "")}` as NodeJS.Signals);
    signal(swap.start, old);
    const fresh = await waitFor(async () => {
      const pid = await readPid(pidFile);
      return pid !== undefined && pid !== old && alive(pid) ? pid : undefined;
    }, SWAP_TIMEOUT_MS);
    if (fresh === undefined) throw new CongruentError("E_SERVICE", `service "${def.name}": the new binary did not start within ${SWAP_TIMEOUT_MS / 1000} s of SIG${swap.start} (the old process keeps serving); see journalctl -u ${unit}`);
    signal(swap.drain, old);
    try {
      await confirm();
    } catch (error) {
      // Back to the old binary: its workers again (HUP), the new main process gone.
      signal("HUP", old);
      signal(swap.stop, fresh);
      throw error;
    }
    signal(swap.stop, old);
    // systemd reads the PID file once the old main process has exited; in-flight requests may
    // keep it a while, so this waits boundedly and does not fail.
    await waitFor(async () => ((await this.status(def.name)).pid === fresh ? true : undefined), SWAP_TIMEOUT_MS);
  }

  private async installed(name: string): Promise<string> {
    const unit = this.unit(name);
    if (!/^[a-z0-9-]+$/.test(name) || !(await fs.access(path.join(this.unitDir, unit)).then(() => true, () => false))) {
      throw new CongruentError("E_SERVICE", `service "${name}" is not installed in ${this.unitDir}`);
    }
    return unit;
  }
}

const SWAP_TIMEOUT_MS = 30_000;

async function readPid(file: string): Promise<number | undefined> {
  const pid = Number((await fs.readFile(file, "utf8").catch(() => "")).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `check`'s first defined answer, polled every 20 ms for at most `ms`; undefined on time-out. */
async function waitFor<T>(check: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const value = await check();
    if (value !== undefined) return value;
  }
  return undefined;
}

async function systemctl(args: string[]): Promise<string> {
  try {
    return (await execFileAsync("systemctl", args, { timeout: 120_000 })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new CongruentError("E_SERVICE", `systemctl ${args.join(" ")} failed: ${(e.stderr ?? "").trim() || e.message}`);
  }
}
