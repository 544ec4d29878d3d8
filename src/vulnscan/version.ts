/**
 * Nix's version ordering (builtins.compareVersions / `nix-env` upgrades), plus one fix:
 * trailing zero components are dropped first, so `153.0`, `153.0.0` and `153` are equal
 * (Nix alone says 153.0 < 153.0.0, which makes NVD ranges written one way miss packages
 * versioned the other way).
 */

/**
 * Nix's components: runs of digits, or runs of other characters; `.` and `-` separate.
 *
 * @example splitVersion("1.0.1f") // ["1", "0", "1", "f"]
 */
export function splitVersion(v: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < v.length) {
    while (i < v.length && (v[i] === "." || v[i] === "-")) i++;
    if (i >= v.length) break;
    const start = i;
    if (isDigit(v.charCodeAt(i))) while (i < v.length && isDigit(v.charCodeAt(i))) i++;
    else while (i < v.length && !isDigit(v.charCodeAt(i)) && v[i] !== "." && v[i] !== "-") i++;
    out.push(v.slice(start, i));
  }
  return out;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isNumber(c: string): boolean {
  return c.length > 0 && isDigit(c.charCodeAt(0));
}

/** Numeric comparison of digit strings of any length (no overflow, leading zeros ignored). */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, "");
  const y = b.replace(/^0+(?=\d)/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Nix's componentsLT: numbers numerically; "" < number; "pre" < everything; a string < a number. */
function componentLess(c1: string, c2: string): boolean {
  const n1 = isNumber(c1);
  const n2 = isNumber(c2);
  if (n1 && n2) return compareDigits(c1, c2) < 0;
  if (c1 === "" && n2) return true;
  if (c1 === "pre" && c2 !== "pre") return true;
  if (c2 === "pre") return false;
  if (n2) return true;
  if (n1) return false;
  return c1 < c2;
}

/** Parsed versions: a scan compares the same range bounds millions of times. */
const cache = new Map<string, readonly string[]>();
const CACHE_MAX = 500_000;

/** Components with trailing numeric zeros removed: 153.0.0 → [153]. */
export function normalizedComponents(v: string): readonly string[] {
  const hit = cache.get(v);
  if (hit) return hit;
  const c = splitVersion(v);
  while (c.length > 1 && isNumber(c[c.length - 1] as string) && /^0+$/.test(c[c.length - 1] as string)) c.pop();
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(v, c);
  return c;
}

/**
 * -1, 0 or 1 as Nix orders `a` and `b`, after trailing-zero normalisation.
 *
 * @example compareVersions("1.0.1f", "1.0.1g") // -1
 * @example compareVersions("153.0", "153.0.0") // 0
 */
export function compareVersions(a: string, b: string): number {
  const x = normalizedComponents(a);
  const y = normalizedComponents(b);
  for (let i = 0; i < x.length || i < y.length; i++) {
    const c1 = x[i] ?? "";
    const c2 = y[i] ?? "";
    if (componentLess(c1, c2)) return -1;
    if (componentLess(c2, c1)) return 1;
  }
  return 0;
}

/** Versions equal under {@link compareVersions}. */
export function versionsEqual(a: string, b: string): boolean {
  return compareVersions(a, b) === 0;
}

/** Output names Nix appends to a store path name (`openssl-3.0.13-dev`); not part of the version. */
const OUTPUTS = new Set(["bin", "dev", "lib", "out", "man", "doc", "devdoc", "info", "debug", "static", "dist", "py", "modules", "terminfo", "lib64", "getent", "locale"]);

export interface NixName {
  name: string;
  pname: string;
  /** "" when the name has no version. */
  version: string;
}

/**
 * Split a Nix name as builtins.parseDrvName does: the version starts at the first `-`
 * followed by a digit. A trailing output name (`-bin`, `-dev`, …) is dropped from the version.
 *
 * @example splitName("openssl-1.0.1f-bin") // { name: "openssl-1.0.1f-bin", pname: "openssl", version: "1.0.1f" }
 */
export function splitName(name: string): NixName {
  const m = /-(?=\d)/.exec(name);
  if (!m) return { name, pname: name, version: "" };
  let version = name.slice(m.index + 1);
  for (;;) {
    const dash = version.lastIndexOf("-");
    if (dash < 0 || !OUTPUTS.has(version.slice(dash + 1))) break;
    version = version.slice(0, dash);
  }
  return { name, pname: name.slice(0, m.index), version };
}
