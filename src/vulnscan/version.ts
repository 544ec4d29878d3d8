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

// Version keys: tags in Nix's component order, all printable, so keys pass through JSON and
// SQL text as they are. A string component ends with TERM, below every character it holds:
// characters up to ESC are written ESC and the character plus 0x40, which keeps their order.
const PRE = "%";
const END = "&";
const STR = "(";
const NUM = ")";
const TERM = "#";
const ESC = "$";
// Control characters are exactly what it is about. Only used with replace (no lastIndex state).
// eslint-disable-next-line no-control-regex
const LOW = /[\x00-\x24]/g;

/**
 * A string whose code-unit order is {@link compareVersions}' order: equal keys for equal
 * versions, and `versionKey(a) < versionKey(b)` exactly when a sorts before b. So the index can
 * store range bounds as keys and compare them in SQL (BINARY collation, memcmp of UTF-8, the
 * same order) instead of reading every range into JavaScript.
 *
 * Components (after trailing-zero normalisation) are tagged in Nix's order: "pre" `%` < the
 * missing component (the end, `&`) < other strings `(` (ended by `#`) < numbers `)` (their digit
 * count as one character from `1` on, then the digits without leading zeros).
 *
 * @example versionKey("1.0") === versionKey("1") // true
 * @example versionKey("1.0pre") < versionKey("1.0") // true
 */
export function versionKey(v: string): string {
  return versionKeyBounds(v).key;
}

/**
 * {@link versionKey}(v) and where its {@link keyPrefixes} end (their lengths, the whole key
 * last), in one pass over `v`: a scan asks this of every package. Components are split and
 * trailing zeros dropped exactly as {@link splitVersion} and {@link normalizedComponents} do.
 *
 * @example versionKeyBounds("1.2").ends.length // 4
 */
export function versionKeyBounds(v: string): { key: string; ends: number[] } {
  // The key is written as it goes, each component's end noted; the trailing zeros are cut off
  // at the end (fewer strings made than components collected first: this runs cold, per version).
  let key = "";
  const ends = [0];
  let zeros = 0; // trailing components that are numbers made of zeros only
  let i = 0;
  while (i < v.length) {
    let c = v.charCodeAt(i);
    if (c === 46 || c === 45) {
      i++;
      continue;
    }
    const start = i;
    if (c >= 48 && c <= 57) {
      let lead = i;
      while (i < v.length && (c = v.charCodeAt(i)) >= 48 && c <= 57) i++;
      while (lead < i - 1 && v.charCodeAt(lead) === 48) lead++;
      key += NUM + String.fromCharCode(0x30 + i - lead) + v.slice(lead, i);
      zeros = lead === i - 1 && v.charCodeAt(lead) === 48 ? zeros + 1 : 0;
    } else {
      let low = false;
      while (i < v.length && !((c = v.charCodeAt(i)) >= 48 && c <= 57) && c !== 46 && c !== 45) {
        if (c <= 0x24) low = true;
        i++;
      }
      const text = v.slice(start, i);
      key += text === "pre" ? PRE : STR + (low ? text.replace(LOW, (x) => ESC + String.fromCharCode(x.charCodeAt(0) + 0x40)) : text) + TERM;
      zeros = 0;
    }
    ends.push(key.length);
  }
  // Trailing zeros go, but never the only component: 153.0.0 is 153, 0.0 is 0.
  ends.length -= Math.min(zeros, Math.max(0, ends.length - 2));
  key = key.slice(0, ends[ends.length - 1]) + END;
  ends.push(key.length);
  return { key, ends };
}

/**
 * The prefixes of a version key that end where a component ends: "", each component added,
 * and the whole key with its end mark. Every key between two keys starts with their longest
 * common such prefix, so the index files each range under it and a lookup asks only these.
 * Parsing stops at the end mark (anything after it, as in a bound's "just above", is ignored).
 *
 * @example keyPrefixes(versionKey("1.2")).length // 4: "", "1", "1.2", "1.2" and its end
 */
export function keyPrefixes(key: string): string[] {
  const out = [""];
  let i = 0;
  while (i < key.length) {
    const tag = key[i];
    if (tag === STR) i = key.indexOf(TERM, i) + 1 || key.length;
    else if (tag === NUM) i += 2 + key.charCodeAt(i + 1) - 0x30;
    else i++;
    out.push(key.slice(0, i));
    if (tag === END) break;
  }
  return out;
}

/** True when a key prefix is a whole key (it ends with the end mark). */
export function isWholeKey(prefix: string): boolean {
  return prefix.endsWith(END);
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

/** Where a Nix name's version starts: its first `-` followed by a digit. */
const VERSION_START = /-\d/;

/**
 * Split a Nix name as builtins.parseDrvName does: the version starts at the first `-`
 * followed by a digit. A trailing output name (`-bin`, `-dev`, …) is dropped from the version.
 *
 * @example splitName("openssl-1.0.1f-bin") // { name: "openssl-1.0.1f-bin", pname: "openssl", version: "1.0.1f" }
 */
export function splitName(name: string): NixName {
  const start = name.search(VERSION_START);
  if (start < 0) return { name, pname: name, version: "" };
  let version = name.slice(start + 1);
  for (;;) {
    const dash = version.lastIndexOf("-");
    if (dash < 0 || !OUTPUTS.has(version.slice(dash + 1))) break;
    version = version.slice(0, dash);
  }
  return { name, pname: name.slice(0, start), version };
}

