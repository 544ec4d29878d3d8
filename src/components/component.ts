import type { NarNode } from "../store/nar.js";
import type { ServiceDefinition } from "../services/manager.js";
import type { ComponentMeta } from "../generation/metadata.js";

/**
 * What a change to one input of a component costs the running service, cheapest last.
 * `runtime`: applied to the live process through its own protocol (e.g. Redis CONFIG SET).
 */
export type ChangeClass = "restart" | "reload" | "runtime" | "none";

/** A setting a host description may give (`settings.<component>.<name>`). */
export interface SettingSpec {
  type: "integer" | "string" | "boolean";
  default: number | string | boolean;
  description: string;
  /** What a change of this setting needs. */
  change: ChangeClass;
  min?: number;
  max?: number;
  /** Allowed values of a string setting. */
  values?: readonly string[];
  /** Extra check; returns a message when the value is rejected. */
  check?: (value: unknown) => string | undefined;
}

/** A message when `value` does not fit `spec` (type, range, allowed values, extra check), else undefined. */
export function checkSetting(spec: SettingSpec, value: unknown): string | undefined {
  if (spec.type === "integer") {
    if (typeof value !== "number" || !Number.isInteger(value)) return `expected an integer, got ${JSON.stringify(value)}`;
    if (spec.min !== undefined && value < spec.min) return `${value} is below the minimum ${spec.min}`;
    if (spec.max !== undefined && value > spec.max) return `${value} is above the maximum ${spec.max}`;
  } else if (typeof value !== spec.type) {
    return `expected a ${spec.type}, got ${JSON.stringify(value)}`;
  }
  if (spec.values && !spec.values.includes(String(value))) return `${JSON.stringify(value)} is not one of ${spec.values.join(", ")}`;
  return spec.check?.(value);
}

/** One file of an integration point, as read by the build (never modified). */
export interface LocalFile {
  /** Absolute path under --local, for messages. */
  path: string;
  /** Name inside the integration point, e.g. `shop.conf`. */
  name: string;
  contents: Buffer;
}

/** Everything a component may use to render; nothing else (build is pure). */
export interface RenderContext {
  hostName: string;
  parameters: Record<string, string>;
  /** Settings after defaults were applied and values validated against `settings`. */
  settings: Record<string, number | string | boolean>;
  /** Files of the integration point (`<local>/<component>/`), sorted by name. */
  local: LocalFile[];
  /** Writable runtime directory of the service (pid files, sockets, temp files). */
  runtimeDir: string;
  /** Directory for the service's own log files (the supervisor's log of stdout is beside it). */
  logDir: string;
  /**
   * Stable path that activation points at this component's store path (a symlink): the
   * running service reads its configuration through it, so a reload sees the new files.
   */
  configLink: string;
  /** Directory for the service's divergent data (database files, dumps): never in the store, never removed. */
  dataDir: string;
  /** Roles of the host that enabled this component (e.g. `postgresql15`). */
  roles: string[];
  /** Where a setting of this component was written, for messages: `host.json:12`. */
  settingSource(key: string): string;
}

/** A tracked input of a component whose change activation must classify (snippets, …). */
export interface TrackedInput {
  /** Short name shown in plans, e.g. `snippet shop.conf`. */
  label: string;
  /** Content hash (any stable string). */
  hash: string;
  change: ChangeClass;
  /**
   * Files and directories outside the integration points this input was read from (a file a
   * snippet includes): the agent stats them to tell an unchanged host from one to build.
   */
  watch?: string[];
}

/** The identity of a program a component runs: a new binary is a new generation. */
export interface ProgramIdentity {
  path: string;
  version: string;
  sha256: string;
}

/** A setting as recorded in a generation: its value and what changing it needs. */
export interface RecordedSetting {
  value: number | string | boolean;
  change: ChangeClass;
  /** The software's default, shown in plans when the setting is added or removed. */
  default?: number | string | boolean;
}

export interface Rendered {
  /** Directory tree of the component's store path. */
  tree: NarNode & { type: "directory" };
  /**
   * The settings in effect, each with its change class, when the component knows them better
   * than its static `settings` specs (e.g. PostgreSQL parameters from the host and snippets,
   * classified by the server's own catalogue). Absent: the specs' values and classes.
   */
  settings?: Record<string, RecordedSetting>;
  inputs: Record<string, TrackedInput>;
  service: ServiceDefinition;
  program: ProgramIdentity;
}

/** An error in an input, located precisely. */
export interface InputError {
  file: string;
  line?: number;
  message: string;
}

/**
 * A component: one piece of software the platform runs, described completely by this object.
 * Core code reaches components only through `registry.ts` and this interface.
 */
export interface Component {
  name: string;
  description: string;
  settings: Record<string, SettingSpec>;
  integrationPoint: {
    /** Which files of `<local>/<name>/` are inputs; others are ignored (and reported). */
    accepts: (fileName: string) => boolean;
    /** Text of the README.txt the build links into the integration point. */
    readme: string;
  };
  /** What a restart costs beyond the pause, where the software makes it known: plans say it (memcached: the cache is emptied). */
  restartLoses?: string;
  /** What a change of the rendered service definition or program needs (default restart). */
  render(ctx: RenderContext): Promise<Rendered>;
  /**
   * Check the rendered tree, materialised at `dir` (same layout as the store path), with the
   * software's own knowledge. Messages name the customer's file (and line) via `ctx.local`.
   */
  validate(ctx: RenderContext, dir: string): Promise<InputError[]>;
  /**
   * Accept host settings not in `settings` (e.g. any PostgreSQL parameter); the component
   * checks them itself in render/validate and names `ctx.settingSource(key)` on error.
   */
  openSettings?: boolean;
  /**
   * What can be known of an open setting without the program (name syntax, names the platform
   * owns, one line): the host schema runs it wherever a description is written (the directory
   * too), so only what needs the program (its catalogue, its parser) is left to the build.
   * Returns a message when the setting is refused.
   */
  checkOpenSetting?(name: string, value: number | string | boolean): string | undefined;
  /**
   * A rule across settings (e.g. memcached's item size at most half of its memory): the setting
   * it is about and why, when broken. Called with the effective values by the build, and with
   * one layer's values (a host's settings, a release's defaults) by the host schema: a rule
   * whose settings are not all there is not judged.
   */
  checkSettings?(values: Record<string, number | string | boolean>): { setting: string; message: string } | undefined;

  /**
   * Make the divergent places the service needs before it starts (data directory, `initdb`,
   * secrets copied from `<state>/secrets/` with the right owner). Idempotent; never rewrites
   * or removes existing data. Runs before every start and restart.
   */
  prepare?(live: LiveContext): Promise<void>;
  /**
   * One readiness probe (PostgreSQL `SELECT 1`, Redis `PING`, …): resolves when the service
   * answers correctly, throws with the reason otherwise. Activation retries it, bounded.
   */
  health?(live: LiveContext): Promise<void>;
  /**
   * Apply changed settings of class `runtime` to the live process through its own protocol
   * (e.g. Redis `CONFIG SET`), without restarting it; the main PID must stay the same. A
   * component with `runtime` settings needs this or `ensure` (which runs after every step).
   */
  applyRuntime?(live: LiveContext, changes: SettingChange[]): Promise<void>;
  /**
   * Bring state the service keeps inside its own data (database roles and databases) up to
   * what this generation names: idempotent, additive, never drops data. Runs once the service
   * is healthy after a start, restart, reload or runtime step. The one convergent corner of a
   * component, kept explicit.
   */
  ensure?(live: LiveContext): Promise<void>;
  /** Capture what confirmReload compares against, just before the reload signal. */
  markBeforeReload?(live: LiveContext, pid: number): Promise<ReloadMark>;
  /**
   * Wait after a reload until the live process serves the new configuration, and throw if
   * any of it was left unapplied (e.g. a PostgreSQL setting now `pending_restart`).
   */
  confirmReload?(live: LiveContext, pid: number, before: ReloadMark): Promise<void>;
}

export type ReloadMark = unknown;

/** The service as activation is bringing it to one generation's component. */
export interface LiveContext {
  service: string;
  /** Store path of the component being activated (what `configLink` points to). */
  configDir: string;
  meta: ComponentMeta;
  stateDir: string;
  runtimeDir: string;
  logDir: string;
  dataDir: string;
  /** `<state>/secrets/`: passwords and keys, mode 0700, files 0600; never in the store. */
  secretsDir: string;
  /** How long a hook may wait for the service (confirming a reload, …): the switch's --health-timeout. */
  waitMs: number;
}

/** One setting that differs between the running component and the one being activated. */
export interface SettingChange {
  name: string;
  from: number | string | boolean | undefined;
  to: number | string | boolean | undefined;
}
