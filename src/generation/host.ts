import { readFileSync } from "node:fs";
import { CongruentError } from "../errors.js";
import { components, roles } from "../components/registry.js";
import { checkSetting } from "../components/component.js";
import { parseJson, type JsonSource } from "./json-source.js";

export type SettingValue = number | string | boolean;

/**
 * A host's complete description, validated: the input a generation is a pure function of
 * (with the integration points and the programs' identities).
 *
 * @example {"name": "web1", "roles": ["webgateway"], "parameters": {"resource_group": "acme"},
 *           "settings": {"nginx": {"worker_processes": 2}}}
 */
export interface HostDescription {
  name: string;
  roles: string[];
  parameters: Record<string, string>;
  /** Explicit settings per component, as written (defaults are applied per component). */
  settings: Record<string, Record<string, SettingValue>>;
  /** The channel release this description was made from (set by the agent), part of the generation. */
  release?: { channel: string; number: number; version: string };
}

const TOP_LEVEL = new Set(["name", "roles", "parameters", "settings", "release"]);
// A host name becomes part of a store path name (system-<name>) and a DNS label.
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The host file's text parsed, with line lookup for messages. */
export function readHostSource(file: string): JsonSource {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CongruentError("E_HOST_INVALID", `${file}: cannot read host description: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return parseJson(file, text, "E_HOST_INVALID");
}

export function parseHost(doc: JsonSource): HostDescription {
  const fail = (message: string, key?: string, after?: string): never => {
    const line = key === undefined ? undefined : doc.lineOf(key, after);
    throw new CongruentError("E_HOST_INVALID", `${doc.file}${line ? `:${line}` : ""}: ${message}`);
  };
  const v = doc.value;
  if (!isObject(v)) return fail("a host description is a JSON object");
  for (const key of Object.keys(v)) if (!TOP_LEVEL.has(key)) fail(`unknown field "${key}" (known: ${[...TOP_LEVEL].join(", ")})`, key);

  if (typeof v.name !== "string" || !HOST_NAME.test(v.name)) fail(`name must be a host name (lower-case letters, digits, '-'), got ${JSON.stringify(v.name)}`, "name");
  const roleList = v.roles ?? [];
  if (!Array.isArray(roleList) || roleList.some((r) => typeof r !== "string")) fail("roles must be a list of role names", "roles");
  for (const role of roleList as string[]) if (!roles.has(role)) fail(`unknown role "${role}" (known: ${[...roles.keys()].join(", ")})`, role, "roles");

  const parameters = v.parameters ?? {};
  if (!isObject(parameters)) fail("parameters must be an object of strings", "parameters");
  for (const [key, value] of Object.entries(parameters as object)) if (typeof value !== "string") fail(`parameters.${key} must be a string`, key, "parameters");

  const enabled = enabledComponents(roleList as string[]);
  const settings = v.settings ?? {};
  if (!isObject(settings)) fail("settings must be an object keyed by component", "settings");
  for (const [name, values] of Object.entries(settings as Record<string, unknown>)) {
    const spec = components.get(name);
    if (!spec) fail(`settings.${name}: unknown component (known: ${[...components.keys()].join(", ")})`, name, "settings");
    if (!enabled.includes(name)) fail(`settings.${name}: component not enabled by any role of this host`, name, "settings");
    if (!isObject(values)) fail(`settings.${name} must be an object`, name, "settings");
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      const setting = spec!.settings[key];
      if (!setting && spec!.openSettings) {
        // The component checks these itself (against the software's own catalogue) when it renders.
        if (!["string", "number", "boolean"].includes(typeof value)) fail(`settings.${name}.${key}: expected a string, number or boolean`, key, name);
        continue;
      }
      if (!setting) fail(`settings.${name}.${key}: unknown setting (known: ${Object.keys(spec!.settings).join(", ")})`, key, name);
      const problem = checkSetting(setting!, value);
      if (problem) fail(`settings.${name}.${key}: ${problem}`, key, name);
    }
  }
  const release = v.release;
  if (release !== undefined) {
    const r = release as Record<string, unknown>;
    if (!isObject(release) || typeof r.channel !== "string" || !Number.isInteger(r.number) || typeof r.version !== "string") {
      fail('release must be {"channel": string, "number": integer, "version": string}', "release");
    }
  }
  return {
    ...(release ? { release: release as HostDescription["release"] } : {}),
    name: v.name as string,
    roles: roleList as string[],
    parameters: parameters as Record<string, string>,
    settings: settings as Record<string, Record<string, SettingValue>>,
  };
}

/** Components enabled by a list of roles, deduplicated, in registry order. */
export function enabledComponents(roleList: readonly string[]): string[] {
  const wanted = new Set(roleList.flatMap((r) => roles.get(r) ?? []));
  return [...components.keys()].filter((c) => wanted.has(c));
}

/** Explicit settings over the component's defaults. */
export function effectiveSettings(host: HostDescription, name: string): Record<string, SettingValue> {
  const spec = components.get(name)!;
  const out: Record<string, SettingValue> = {};
  for (const [key, s] of Object.entries(spec.settings)) out[key] = host.settings[name]?.[key] ?? s.default;
  if (spec.openSettings) for (const [key, value] of Object.entries(host.settings[name] ?? {})) out[key] ??= value;
  return out;
}
