import path from "node:path";

/** Where a Nix store keeps its paths and its state (database, gc roots, profiles). */
export interface NixLocations {
  /** What store paths start with: `/nix/store`. */
  storeDir: string;
  /** Nix's state directory: `/nix/var/nix` (its `profiles/` and `gcroots/` live there). */
  stateDir: string;
}

/**
 * The store `nix-store` uses, read from Nix's own settings. A chroot store (`nix-store --store
 * DIR`, as `storeUri`) has paths `/nix/store/…` whose files are under DIR, and its state in
 * `DIR/nix/var/nix`. Otherwise Nix's environment decides, as it does for `nix-store` itself:
 * `NIX_STORE_DIR` (or `NIX_STORE`) and `NIX_STATE_DIR`, by default `/nix/store` and
 * `/nix/var/nix`. Tests root a whole store in a temp dir with those variables, so its paths
 * are real paths that services can read.
 *
 * @example nixLocations(undefined, { NIX_STORE_DIR: "/tmp/t/nix/store" }).storeDir // "/tmp/t/nix/store"
 */
export function nixLocations(storeUri?: string, env: NodeJS.ProcessEnv = process.env): NixLocations {
  if (storeUri) return { storeDir: "/nix/store", stateDir: path.join(path.resolve(storeUri), "nix", "var", "nix") };
  return {
    storeDir: path.resolve(env.NIX_STORE_DIR || env.NIX_STORE || "/nix/store"),
    stateDir: path.resolve(env.NIX_STATE_DIR || "/nix/var/nix"),
  };
}
