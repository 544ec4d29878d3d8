import { checkSetting, type Component } from "../components/component.js";
import { components, roles } from "../components/registry.js";
import { isObject, under, type Issue } from "./issue.js";
import { checkName, checkParameters } from "./names.js";

/**
 * The one schema of a host description, built from the component registry: which roles exist
 * and which components they enable, each component's settings (type, range, allowed values,
 * the checks of open settings that need no program), parameters and names. The host file
 * (`parseHost`), the directory's routes (`directory/api.ts` wraps these checks in zod), release
 * defaults and the CLI all call these functions, so nothing the directory accepts is refused
 * later by an agent for a reason the directory could have known. What needs the program
 * itself (PostgreSQL's catalogue, what redis-server accepts) is left to the agent's build,
 * whose error the directory shows in the host's last report.
 *
 * Checks return every issue found; a path is relative to the value checked.
 *
 * @example checkSettings({ nginx: { worker_processes: 999 } }) // [{ path: ["nginx", "worker_processes"], message: "999 is above the maximum 64" }]
 */
export type SettingValue = number | string | boolean;

const known = (names: Iterable<string>) => [...names].join(", ");

/** Components enabled by a list of roles, deduplicated, in registry order. */
export function enabledComponents(roleList: readonly string[]): string[] {
  const wanted = new Set(roleList.flatMap((r) => roles.get(r) ?? []));
  return [...components.keys()].filter((c) => wanted.has(c));
}

export function checkRole(value: unknown): string | undefined {
  return typeof value === "string" && roles.has(value) ? undefined : `unknown role ${JSON.stringify(value)} (known: ${known(roles.keys())})`;
}

/** `roles`: a list of role names the registry knows. */
export function checkRoles(value: unknown): Issue[] {
  if (!Array.isArray(value)) return [{ path: [], message: `expected a list of role names (known: ${known(roles.keys())})` }];
  return value.flatMap((role, i) => {
    const problem = checkRole(role);
    return problem ? [{ path: [i], message: problem }] : [];
  });
}

/** One setting of one component: its spec's type, range and values, or the component's own check of an open setting. */
export function checkComponentSetting(component: Component, key: string, value: unknown): string | undefined {
  const spec = component.settings[key];
  if (spec) return checkSetting(spec, value);
  if (!component.openSettings) return `unknown setting (known: ${known(Object.keys(component.settings))})`;
  if (!["string", "number", "boolean"].includes(typeof value)) return `expected a string, number or boolean, got ${JSON.stringify(value)}`;
  return component.checkOpenSetting?.(key, value as SettingValue);
}

/**
 * The settings of one component, each alone and together. A rule across settings is judged
 * only on what this layer gives: a release's defaults, the host's own settings and the
 * integration point's file may each give part of it, and only the build sees them all.
 */
function checkComponentSettings(component: Component, values: unknown): Issue[] {
  if (!isObject(values)) return [{ path: [], message: "expected an object of settings" }];
  const issues: Issue[] = [];
  for (const [key, value] of Object.entries(values)) {
    const problem = checkComponentSetting(component, key, value);
    if (problem) issues.push({ path: [key], message: problem });
  }
  const broken = issues.length === 0 ? component.checkSettings?.(values as Record<string, SettingValue>) : undefined;
  if (broken) issues.push({ path: [broken.setting], message: broken.message });
  return issues;
}

/**
 * `settings`: `{<component>: {<setting>: value}}`. With `roleList`, every component must be
 * enabled by one of those roles (a host's own settings); without, any component (a layer).
 */
export function checkSettings(value: unknown, roleList?: readonly string[]): Issue[] {
  if (!isObject(value)) return [{ path: [], message: "expected an object keyed by component, e.g. {\"nginx\": {\"worker_processes\": 2}}" }];
  const enabled = roleList ? enabledComponents(roleList) : undefined;
  const issues: Issue[] = [];
  for (const [name, values] of Object.entries(value)) {
    const component = components.get(name);
    if (!component) issues.push({ path: [name], message: `unknown component (known: ${known(components.keys())})` });
    else if (enabled && !enabled.includes(name)) issues.push({ path: [name], message: "component not enabled by any role of this host" });
    else issues.push(...under([name], checkComponentSettings(component, values)));
  }
  return issues;
}

/** A release's `defaults`: `{<role>: {<component>: {<setting>: value}}}`, each component one its role enables. */
export function checkRoleDefaults(value: unknown): Issue[] {
  if (!isObject(value)) return [{ path: [], message: "expected an object keyed by role, e.g. {\"webgateway\": {\"nginx\": {\"worker_processes\": 4}}}" }];
  const issues: Issue[] = [];
  for (const [role, settings] of Object.entries(value)) {
    const problem = checkRole(role);
    if (problem) {
      issues.push({ path: [role], message: problem });
      continue;
    }
    const enables = roles.get(role)!;
    const foreign = isObject(settings) ? Object.keys(settings).filter((name) => components.has(name) && !enables.includes(name)) : [];
    for (const name of foreign) issues.push({ path: [role, name], message: `component not enabled by role ${role} (it enables ${known(enables)})` });
    if (foreign.length === 0) issues.push(...under([role], checkSettings(settings)));
  }
  return issues;
}

/** Settings of components that none of the host's roles enable (roles and settings set apart, e.g. by a PATCH). */
export function checkHostSettings(host: { roles: readonly string[]; settings: unknown }): Issue[] {
  return under(["settings"], checkSettings(host.settings, host.roles));
}

const TOP_LEVEL = ["name", "roles", "parameters", "settings", "release"];

/**
 * A host file (`congruent build --host FILE`, or what the agent writes from the directory's
 * answer): `{name, roles, parameters, settings, release?}`.
 */
export function checkHostDescription(v: unknown): Issue[] {
  if (!isObject(v)) return [{ path: [], message: "a host description is a JSON object" }];
  const issues: Issue[] = [];
  for (const key of Object.keys(v)) if (!TOP_LEVEL.includes(key)) issues.push({ path: [key], message: `unknown field "${key}" (known: ${known(TOP_LEVEL)})` });
  const name = checkName(v.name);
  if (name) issues.push({ path: ["name"], message: name });
  const roleList = v.roles ?? [];
  const roleIssues = under(["roles"], checkRoles(roleList));
  issues.push(...roleIssues);
  if (v.parameters !== undefined) issues.push(...under(["parameters"], checkParameters(v.parameters)));
  if (v.settings !== undefined && roleIssues.length === 0) issues.push(...checkHostSettings({ roles: roleList as string[], settings: v.settings }));
  const release = v.release;
  if (release !== undefined && !(isObject(release) && typeof release.channel === "string" && Number.isInteger(release.number) && typeof release.version === "string")) {
    issues.push({ path: ["release"], message: 'expected {"channel": string, "number": integer, "version": string}' });
  }
  return issues;
}

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, on: true, yes: true, false: false, off: false, no: false };

/**
 * A value typed on the command line (`--set nginx.gzip=off`) as the schema types that setting:
 * booleans from true/false/on/off/yes/no, integers from digits, strings as written; an open
 * setting (any PostgreSQL parameter) keeps numbers and true/false, the rest is a string.
 *
 * @example typeSetting("nginx", "client_max_body_size", "16") // "16"
 */
export function typeSetting(component: string, key: string, raw: string): SettingValue {
  const spec = components.get(component)?.settings[key];
  if (spec?.type === "string") return raw;
  if (spec?.type === "boolean") return BOOLEAN_WORDS[raw.toLowerCase()] ?? raw;
  if (raw === "true" || raw === "false") return raw === "true";
  return raw !== "" && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
}
