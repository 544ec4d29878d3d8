import { readFileSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { ProgramIdentity, RecordedSetting, TrackedInput } from "../components/component.js";
import type { ServiceDefinition } from "../services/manager.js";
import type { HostDescription } from "./host.js";

/** `component.json` in every component store path: what activation diffs. */
export interface ComponentMeta {
  name: string;
  settings: Record<string, RecordedSetting>;
  inputs: Record<string, TrackedInput>;
  service: ServiceDefinition;
  program: ProgramIdentity;
}

/** `system.json` in a generation: the host and the store path of each component. */
export interface SystemMeta {
  host: HostDescription;
  components: Record<string, string>;
}

export const COMPONENT_META = "component.json";
export const SYSTEM_META = "system.json";

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch (error) {
    throw new CongruentError("E_STORE_MISSING", `${file}: cannot read generation metadata: ${(error as Error).message}`);
  }
}

export function readSystem(generation: string): SystemMeta {
  return readJson<SystemMeta>(path.join(generation, SYSTEM_META));
}

export function readComponent(componentPath: string): ComponentMeta {
  return readJson<ComponentMeta>(path.join(componentPath, COMPONENT_META));
}
