import { spawnSync } from "node:child_process";
import path from "node:path";

/** Nix 2.8 from Debian's nix-bin is installed (scripts/install-deps.sh). */
export const hasNix = spawnSync("nix-store", ["--version"]).status === 0;

/**
 * Nix's own variables for a whole store rooted at `root` (never the machine's /nix): its paths
 * are `<root>/nix/store/…`, real paths a service can read. No binary cache (an offline host
 * would wait seconds on DNS), no sandbox and no build users (Debian's nix-bin has no nixbld
 * group), as ../../../shared/MACHINE-NOTES.md found.
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
