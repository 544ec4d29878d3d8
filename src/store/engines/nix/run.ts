import { spawnSync } from "node:child_process";
import { CongruentError } from "../../../errors.js";

/** Without this, every call waits seconds on cache.nixos.org's DNS on an offline host. */
const OFFLINE_CONFIG = "substituters =\nexperimental-features = nix-command";

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `nix-store [--store storeUri] args…`. Throws E_PROGRAM_MISSING if Nix is not installed;
 * a non-zero exit is returned, not thrown, since some queries answer with their status.
 *
 * @example runNixStore(undefined, ["--check-validity", p]).status === 0
 */
export function runNixStore(storeUri: string | undefined, args: string[], input?: Buffer): RunResult {
  const r = spawnSync("nix-store", [...(storeUri ? ["--store", storeUri] : []), ...args], {
    input,
    env: { ...process.env, NIX_CONFIG: process.env.NIX_CONFIG ?? OFFLINE_CONFIG },
    maxBuffer: 1 << 30,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code === "ENOENT" ? "E_PROGRAM_MISSING" : "E_STORE_IO";
    throw new CongruentError(code, `cannot run nix-store: ${r.error.message}`);
  }
  return { status: r.status ?? 1, stdout: r.stdout.toString(), stderr: r.stderr.toString().trim() };
}

/** Like {@link runNixStore}, but a failure is an E_STORE_IO (E_STORE_MISSING for an invalid path). */
export function nixStoreOk(storeUri: string | undefined, args: string[], input?: Buffer): string {
  const r = runNixStore(storeUri, args, input);
  if (r.status !== 0) {
    const code = /is not valid|don't know how to build/.test(r.stderr) ? "E_STORE_MISSING" : "E_STORE_IO";
    throw new CongruentError(code, `nix-store ${args[0]} failed: ${r.stderr.split("\n").at(-1)}`);
  }
  return r.stdout;
}
