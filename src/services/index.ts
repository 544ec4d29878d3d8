import { promises as fs } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { ServiceManager } from "./manager.js";
import { S6Manager } from "./s6/index.js";
import { SystemdManager } from "./systemd/index.js";

export type ServiceManagerKind = "auto" | "s6" | "systemd";

export interface OpenServiceManagerOptions {
  stateDir: string;
  /** "auto" (default): `$CONGRUENT_SERVICE_MANAGER` if set, else systemd when it is PID 1, else s6. */
  kind?: ServiceManagerKind;
  /** systemd only: where unit files go (default /etc/systemd/system). */
  unitDir?: string;
}

/**
 * The one place that picks a concrete service manager. An explicit `kind` wins over
 * `$CONGRUENT_SERVICE_MANAGER`, which wins over detection.
 *
 * @example const manager = await openServiceManager({ stateDir: "/var/lib/congruent" });
 */
export async function openServiceManager(options: OpenServiceManagerOptions): Promise<ServiceManager> {
  const kind = await resolveKind(options.kind ?? "auto", process.env.CONGRUENT_SERVICE_MANAGER);
  if (kind === "systemd") return new SystemdManager({ stateDir: options.stateDir, unitDir: options.unitDir });
  await requireS6();
  return new S6Manager({ stateDir: options.stateDir });
}

/** Resolve "auto": the environment's choice, else systemd when booted with it as PID 1. */
export async function resolveKind(kind: ServiceManagerKind, fromEnv: string | undefined): Promise<"s6" | "systemd"> {
  if (kind !== "auto") return kind;
  if (fromEnv !== undefined && fromEnv !== "" && fromEnv !== "auto") {
    if (fromEnv !== "s6" && fromEnv !== "systemd") {
      throw new CongruentError("E_USAGE", `CONGRUENT_SERVICE_MANAGER must be "s6", "systemd" or "auto", not "${fromEnv}"`);
    }
    return fromEnv;
  }
  return (await systemdIsPid1()) ? "systemd" : "s6";
}

// Both checks, as sd_booted() does plus the comm: a container can have /run/systemd/system bind-mounted.
async function systemdIsPid1(): Promise<boolean> {
  const booted = await fs.access("/run/systemd/system").then(() => true, () => false);
  const comm = await fs.readFile("/proc/1/comm", "utf8").catch(() => "");
  return booted && comm.trim() === "systemd";
}

const S6_PROGRAMS = ["s6-svscan", "s6-supervise", "s6-svc", "s6-svstat", "s6-svscanctl", "s6-setuidgid", "s6-log"];

async function requireS6(): Promise<void> {
  const dirs = (process.env.PATH ?? "/usr/bin:/bin").split(":").filter(Boolean);
  for (const program of S6_PROGRAMS) {
    const candidates = dirs.map((dir) => fs.access(path.join(dir, program), fs.constants.X_OK));
    if (!(await Promise.any(candidates).then(() => true, () => false))) {
      throw new CongruentError("E_PROGRAM_MISSING", `${program} not found in PATH: install Debian's "s6" package (apt-get install s6)`);
    }
  }
}
