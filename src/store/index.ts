import type { StoreEngine } from "./engine.js";
import { EmbeddedStore } from "./engines/embedded/index.js";
import { NixStore } from "./engines/nix/index.js";

export type EngineName = "embedded" | "nix";
export const ENGINE_NAMES: readonly EngineName[] = ["embedded", "nix"];

export interface OpenStoreOptions {
  stateDir: string;
  /** "embedded" (default): `<state>/store`, no daemon. "nix": the host's Nix via `nix-store`. */
  engine?: EngineName;
  /** For the nix engine: passed as `nix-store --store` (a directory roots a chroot store there). */
  nixStoreUri?: string;
}

/**
 * The one place that picks a concrete engine; everything else holds a StoreEngine.
 *
 * @example const store = openStore({ stateDir: "/var/lib/congruent" });
 */
export function openStore(opts: OpenStoreOptions): StoreEngine {
  if (opts.engine === "nix") return new NixStore({ storeUri: opts.nixStoreUri });
  return new EmbeddedStore({ stateDir: opts.stateDir });
}
