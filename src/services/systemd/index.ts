import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { CongruentError } from "../../errors.js";
import type { ServiceDefinition, ServiceManager, ServiceState, ServiceStatus } from "../manager.js";
import { renderUnit, unitName } from "./unit.js";

const execFileAsync = promisify(execFile);

/**
 * Services as systemd units `congruent-<name>.service` in `unitDir` (default
 * /etc/systemd/system). Works only where systemd is PID 1.
 *
 * @example
 *   const manager = new SystemdManager({ stateDir: "/var/lib/congruent" });
 *   await manager.install({ name: "web", command: ["/usr/sbin/nginx", "-c", conf], reloadSignal: "HUP" });
 */
export class SystemdManager implements ServiceManager {
  readonly kind = "systemd" as const;
  readonly unitDir: string;

  constructor(options: { stateDir: string; unitDir?: string }) {
    this.unitDir = options.unitDir ?? "/etc/systemd/system";
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
    const text = renderUnit(def);
    const file = path.join(this.unitDir, unitName(def.name));
    if ((await fs.readFile(file, "utf8").catch(() => undefined)) !== text) {
      await fs.mkdir(this.unitDir, { recursive: true });
      await fs.writeFile(`${file}.tmp`, text);
      await fs.rename(`${file}.tmp`, file);
      await systemctl(["daemon-reload"]);
    }
    await systemctl(["enable", "--now", unitName(def.name)]);
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
    const file = path.join(this.unitDir, unitName(name));
    if (!(await fs.access(file).then(() => true, () => false))) return;
    await systemctl(["disable", "--now", unitName(name)]);
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

  async recentLog(name: string, lines: number): Promise<string[]> {
    const out = await execFileAsync("journalctl", ["-u", unitName(name), "-n", String(lines), "--no-pager", "-o", "cat"]).then((r) => r.stdout, () => "");
    return out.split("\n").filter(Boolean);
  }

  async list(): Promise<string[]> {
    const files = await fs.readdir(this.unitDir).catch(() => []);
    return files.flatMap((f) => /^congruent-([a-z0-9-]+)\.service$/.exec(f)?.[1] ?? []).sort();
  }

  /** Stops every congruent unit; systemd itself (PID 1) stays. */
  async down(): Promise<void> {
    const units = (await this.list()).map(unitName);
    if (units.length > 0) await systemctl(["stop", ...units]);
  }

  private async installed(name: string): Promise<string> {
    const unit = unitName(name);
    if (!/^[a-z0-9-]+$/.test(name) || !(await fs.access(path.join(this.unitDir, unit)).then(() => true, () => false))) {
      throw new CongruentError("E_SERVICE", `service "${name}" is not installed in ${this.unitDir}`);
    }
    return unit;
  }
}

async function systemctl(args: string[]): Promise<string> {
  try {
    return (await execFileAsync("systemctl", args, { timeout: 120_000 })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new CongruentError("E_SERVICE", `systemctl ${args.join(" ")} failed: ${(e.stderr ?? "").trim() || e.message}`);
  }
}
