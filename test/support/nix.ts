import { spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { describe } from "vitest";

/** Nix 2.8 from Debian's nix-bin is installed (scripts/install-deps.sh). */
export const hasNix = spawnSync("nix-store", ["--version"]).status === 0;

/**
 * Nix's own variables for a whole store rooted at `root` (never the machine's /nix): its paths
 * are `<root>/nix/store/…`, real paths a service can read. No binary cache (an offline host
 * would wait seconds on DNS), no sandbox and no build users (Debian's nix-bin has no nixbld
 * group): the facts this machine showed when Nix interop was first tried here.
 *
 * @example cli(["switch", "--store", "nix", …], nixEnv(dir))
 */
export function nixEnv(root: string): Record<string, string> {
  return {
    NIX_STORE_DIR: path.join(root, "nix", "store"),
    NIX_STATE_DIR: path.join(root, "nix", "var", "nix"),
    NIX_LOG_DIR: path.join(root, "nix", "var", "log", "nix"),
    NIX_CONFIG: "substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command",
  };
}

export interface NixDaemon {
  pid: number;
  stop(): Promise<void>;
}

/**
 * A nix-daemon for the store `env` roots, as a multi-user Nix install runs one: users other
 * than root reach that store through it. Started in its own process group, so stop() also
 * ends the per-connection daemons it forks.
 *
 * @example const daemon = await startNixDaemon(nixEnv(root)); …; await daemon.stop();
 */
export async function startNixDaemon(env: Record<string, string>): Promise<NixDaemon> {
  const socket = path.join(env.NIX_STATE_DIR!, "daemon-socket", "socket");
  const child = spawn("nix-daemon", [], { env: { ...process.env, ...env }, detached: true, stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error(`nix-daemon did not create ${socket}`);
  return {
    pid: child.pid!,
    stop: async () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        return; // already gone
      }
      await exited;
      rmSync(socket, { force: true }); // a stale socket would send clients to a daemon that is gone
    },
  };
}

/**
 * `describe`, or a skipped one whose title says why when Nix is not installed.
 *
 * @example describeWithNix("generations in a real Nix store", () => { … })
 */
export function describeWithNix(title: string, fn: () => void): void {
  if (hasNix) describe(title, fn);
  else describe.skip(`${title} (skipped: nix-store is not installed; scripts/install-deps.sh installs nix-bin)`, fn);
}
