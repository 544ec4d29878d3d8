import { readFileSync } from "node:fs";
import { CongruentError } from "../errors.js";
import { components } from "../components/registry.js";
import { checkHostDescription, enabledComponents, type SettingValue } from "../schema/host.js";
import { describeIssue } from "../schema/issue.js";
import { parseJson, type JsonSource } from "./json-source.js";

export { enabledComponents, type SettingValue };

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

/** The description in `doc`, checked against the host schema; the first issue names the file and line. */
export function parseHost(doc: JsonSource): HostDescription {
  const issue = checkHostDescription(doc.value)[0];
  if (issue) {
    const line = doc.lineAt(issue.path);
    throw new CongruentError("E_HOST_INVALID", `${doc.file}${line ? `:${line}` : ""}: ${describeIssue(issue)}`);
  }
  const v = doc.value as Record<string, unknown>;
  return {
    ...(v.release ? { release: v.release as HostDescription["release"] } : {}),
    name: v.name as string,
    roles: (v.roles ?? []) as string[],
    parameters: (v.parameters ?? {}) as Record<string, string>,
    settings: (v.settings ?? {}) as Record<string, Record<string, SettingValue>>,
  };
}

/** Explicit settings over the component's defaults. */
export function effectiveSettings(host: HostDescription, name: string): Record<string, SettingValue> {
  const spec = components.get(name)!;
  const out: Record<string, SettingValue> = {};
  for (const [key, s] of Object.entries(spec.settings)) out[key] = host.settings[name]?.[key] ?? s.default;
  if (spec.openSettings) for (const [key, value] of Object.entries(host.settings[name] ?? {})) out[key] ??= value;
  return out;
}
