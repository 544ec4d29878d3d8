import type { Issue } from "./issue.js";
import { isObject } from "./issue.js";

/**
 * The one rule for the names of directory hosts, resource groups and channels: a DNS label.
 * A host's name is also part of store path names (`system-<name>`) and of every URL of the
 * directory's API (`/v1/hosts/<name>/…`), which accepts names up to this length everywhere.
 *
 * @example NAME_PATTERN.test("web-1") // true
 */
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const NAME_MAX = 63;
export const NAME_RULE = `lower-case letters, digits and '-' (not first or last), at most ${NAME_MAX}`;

export function checkName(value: unknown): string | undefined {
  return typeof value === "string" && NAME_PATTERN.test(value) ? undefined : `expected a name (${NAME_RULE}), got ${JSON.stringify(value)}`;
}

/**
 * A legacy host's name as `migrate inventory` found it: not a directory host (it is not managed
 * yet), so held only to what is safe in a URL path and a table key.
 */
export const LEGACY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
export const LEGACY_NAME_MAX = 253;
export const LEGACY_NAME_RULE = `letters, digits, '.', '_' and '-', at most ${LEGACY_NAME_MAX}`;

/** Parameter names: what a template or a person can refer to without quoting. */
const PARAMETER_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const PARAMETER_VALUE_MAX = 1024;
// C0 and C1 controls and DEL: a parameter is shown and rendered on one line.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** `parameters`: an object of short strings, e.g. `{"fqdn": "web1.example.net"}`. */
export function checkParameters(value: unknown): Issue[] {
  if (!isObject(value)) return [{ path: [], message: "expected an object of strings, e.g. {\"fqdn\": \"web1.example.net\"}" }];
  const issues: Issue[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (!PARAMETER_KEY.test(key)) issues.push({ path: [key], message: "a parameter name is a letter or '_', then letters, digits, '_', '.' or '-', at most 64" });
    else if (typeof v !== "string") issues.push({ path: [key], message: `must be a string, got ${JSON.stringify(v)}` });
    else if (v.length > PARAMETER_VALUE_MAX) issues.push({ path: [key], message: `at most ${PARAMETER_VALUE_MAX} characters` });
    else if (CONTROL.test(v)) issues.push({ path: [key], message: "control characters (newlines, escapes) are not allowed" });
  }
  return issues;
}
