import type { StoreEngine } from "./engine.js";
import { EmbeddedStore } from "./engines/embedded/index.js";
import { NixStore } from "./engines/nix/index.js";

export interface OpenStoreOptions {
  stateDir: string;
  /** "embedded" (default): `<state>/store`, no daemon. "nix": the host's Nix via `nix-store`. */
  engine?: "embedded" | "nix";
  /** For the nix engine: passed as `nix-store --store` (a directory roots a store there). */
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
