import { CongruentError } from "../errors.js";
import path from "node:path";
import { printableJson, printableLines } from "./printable.js";

/** Options every command that touches a host's state accepts. */
export interface StateOptions {
  state?: string;
}

/** `--state`, else `$CONGRUENT_STATE`, else /var/lib/congruent; always absolute. */
export function stateDir(opts: StateOptions): string {
  return path.resolve(opts.state ?? process.env.CONGRUENT_STATE ?? "/var/lib/congruent");
}

/** `--local`, else `$CONGRUENT_LOCAL`, else /etc/local; always absolute. */
export function localDir(opts: { local?: string }): string {
  return path.resolve(opts.local ?? process.env.CONGRUENT_LOCAL ?? "/etc/local");
}

/**
 * Print `value` as one JSON document, or `text` for people. Either way no control character a
 * value brought along reaches the terminal raw (see printable.ts); values that came from
 * elsewhere should be passed through `printable()` by the command too, so their own newlines
 * cannot pass for lines of the output.
 */
export function report(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? printableJson(JSON.stringify(value, null, 2)) + "\n" : printableLines(text()) + "\n");
}

export const HEALTH_HELP = "seconds each started, restarted or reloaded service may take to pass its health check (default 30)";

/** `--health-timeout <seconds>` in milliseconds; undefined when not given. */
export function healthTimeoutMs(opts: { healthTimeout?: string }): number | undefined {
  if (opts.healthTimeout === undefined) return undefined;
  const seconds = Number(opts.healthTimeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new CongruentError("E_USAGE", `--health-timeout: expected a positive number of seconds, got "${opts.healthTimeout}"`);
  return seconds * 1000;
}

/** Options of every command that reads or writes a host's store. */
export interface StoreOptions extends StateOptions {
  store?: string;
}

export const STORE_HELP = "store engine: embedded (<state>/store, no daemon) or nix (the Nix store nix-store uses, /nix/store) (default $CONGRUENT_STORE, else embedded)";

/** `--store`, else `$CONGRUENT_STORE`, else embedded. */
export async function engineName(opts: StoreOptions): Promise<"embedded" | "nix"> {
  const name = opts.store ?? (process.env.CONGRUENT_STORE || "embedded");
  const { ENGINE_NAMES } = await import("../store/index.js");
  const known = ENGINE_NAMES.find((e) => e === name);
  if (!known) throw new CongruentError("E_STORE_ENGINE", `${opts.store !== undefined ? "--store" : "CONGRUENT_STORE"}: unknown store engine "${name}" (known: ${ENGINE_NAMES.join(", ")})`);
  return known;
}

/**
 * The state's store engine, its `<state>/profiles` bound to the engine's profiles (once), so
 * the system profile is where that engine's gc keeps it.
 *
 * @example const store = await openStateStore({ state: "/var/lib/congruent", store: "nix" });
 */
export async function openStateStore(opts: StoreOptions) {
  const [{ openStore }, { bindProfiles }] = await Promise.all([import("../store/index.js"), import("../store/state-profiles.js")]);
  const state = stateDir(opts);
  const store = openStore({ stateDir: state, engine: await engineName(opts) });
  bindProfiles(state, store);
  return store;
}
