import type { NarNode } from "../store/nar.js";
import type { ServiceDefinition } from "../services/manager.js";

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
}

/** A tracked input of a component whose change activation must classify (snippets, …). */
export interface TrackedInput {
  /** Short name shown in plans, e.g. `snippet shop.conf`. */
  label: string;
  /** Content hash (any stable string). */
  hash: string;
  change: ChangeClass;
}

/** The identity of a program a component runs: a new binary is a new generation. */
export interface ProgramIdentity {
  path: string;
  version: string;
  sha256: string;
}

export interface Rendered {
  /** Directory tree of the component's store path. */
  tree: NarNode & { type: "directory" };
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
  /** What a change of the rendered service definition or program needs (default restart). */
  render(ctx: RenderContext): Promise<Rendered>;
  /**
   * Check the rendered tree, materialised at `dir` (same layout as the store path), with the
   * software's own knowledge. Messages name the customer's file (and line) via `ctx.local`.
   */
  validate(ctx: RenderContext, dir: string): Promise<InputError[]>;
  /** Optional wait after a reload until the live process serves the new configuration. */
  confirmReload?(pid: number, before: ReloadMark): Promise<void>;
  /** Capture what confirmReload compares against, just before the reload signal. */
  markBeforeReload?(pid: number): Promise<ReloadMark>;
}

export type ReloadMark = unknown;
