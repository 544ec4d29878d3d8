/**
 * The machine an end-to-end case runs its host on, so one set of cases runs under both
 * service managers: this machine with s6, or a systemd box (systemd as PID 1, its own
 * loopback and PIDs). Cases run the CLI, probe and read files through it.
 *
 * @example
 *   const t = localTarget();                 // or boxTarget(useBox())
 *   const state = t.stateDir();
 *   await t.cliJson(["switch", "--host", host, "--state", state]);
 *   await t.probes.httpGet(8080);
 */
import { mkdirSync, mkdtempSync, chmodSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { CLI, cli, type CliResult } from "../helpers.js";
import type { Box, ExecResult, Spawned } from "./box.js";
import type { BoxAgent } from "./box-agent.js";
import { localProbes, type Probes } from "./probes.js";
import { spawn } from "node:child_process";

export interface Target {
  /** The service manager the CLI uses there. */
  manager: "s6" | "systemd";
  probes: Probes;
  /** A new directory both the test and the target see at the same path (host files, snippets). */
  tempDir(): string;
  /**
   * A state directory on the target. In a box it is on the box's own file system (not under
   * /tmp), as on a real host: units then get their whole confinement (PrivateTmp= included).
   */
  stateDir(): string;
  /** A directory services on the target can read (web roots, binaries), made and empty. */
  serviceDir(): string;
  /** Where the test reads or writes a path of the target. */
  path(p: string): string;
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** A command on the target, started and left running (a client holding a connection). */
  spawn(argv: string[]): Spawned;
}

/** Parse --json output; fail loudly with stderr otherwise. */
export async function cliJson<T>(t: Target, args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await t.cli([...args, "--json"], env);
  if (r.code !== 0) throw new Error(`congruent ${args.join(" ")} exited ${r.code} (${t.manager}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** This machine, with s6. */
export function localTarget(): Target {
  const temp = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-e2e-"));
    chmodSync(dir, 0o755); // services run as their own users
    return dir;
  };
  return {
    manager: "s6",
    probes: localProbes,
    tempDir: temp,
    stateDir: () => path.join(temp(), "state"),
    serviceDir: temp,
    path: (p) => p,
    cli: (args, env = {}) => cli(args, { CONGRUENT_SERVICE_MANAGER: "s6", ...env }),
    spawn: (argv) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const done = new Promise<ExecResult>((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
      return { done, kill: (signal = "SIGKILL") => void child.kill(signal) };
    },
  };
}

/** A systemd box (booted by useBox() in the suite file); the CLI runs inside it. */
export function boxTarget(env: { readonly box: Box; readonly agent: BoxAgent }): Target {
  const inBox = (p: string) => {
    mkdirSync(env.box.path(p), { recursive: true, mode: 0o755 });
    return p;
  };
  return {
    manager: "systemd",
    probes: new Proxy({} as Probes, { get: (_t, name: keyof Probes) => env.agent.probes[name] }),
    tempDir: () => env.box.tempDir("e2e-"),
    stateDir: () => `/var/lib/congruent-e2e-${randomBytes(4).toString("hex")}`,
    serviceDir: () => inBox(`/srv/congruent-e2e-${randomBytes(4).toString("hex")}`),
    path: (p) => env.box.path(p),
    cli: (args, extra = {}) => env.box.exec([process.execPath, CLI, ...args], { env: { CONGRUENT_SERVICE_MANAGER: "systemd", ...extra } }),
    spawn: (argv) => env.box.spawn(argv),
  };
}
