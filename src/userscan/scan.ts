import { MAX_NAME_LENGTH } from "../store/name.js";
import { NIX_BASE32_ALPHABET } from "../store/nix-base32.js";

/** Length of the hash part of a store path: 32 characters of Nix base32. */
export const HASH_LENGTH = 32;

// Byte classes, looked up once per candidate instead of a regex per byte.
const BASE32 = new Uint8Array(256);
for (const c of NIX_BASE32_ALPHABET) BASE32[c.charCodeAt(0)] = 1;
const NAME = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._?=") NAME[c.charCodeAt(0)] = 1;
const DASH = 0x2d;

/**
 * What finds references of one store directory. `prefix` is `<storeDir>/` as bytes; `carry` is
 * how many trailing bytes a chunked reader must keep so that a reference cut by a chunk
 * boundary is seen whole in the next round: the longest reference is the prefix, 32 hash
 * characters, a dash and a 211-character name.
 */
export interface RefPattern {
  storeDir: string;
  prefix: Buffer;
  carry: number;
}

/** @example refPattern("/nix/store").carry // 11 + 32 + 1 + 211 */
export function refPattern(storeDir: string): RefPattern {
  const prefix = Buffer.from(storeDir.replace(/\/+$/, "") + "/");
  return { storeDir: storeDir.replace(/\/+$/, ""), prefix, carry: prefix.length + HASH_LENGTH + 1 + MAX_NAME_LENGTH };
}

/**
 * Scan `buf[0..end)` for references and add their base names (`<hash>-<name>`) to `out`.
 * The store prefix is found with Buffer.indexOf (native memchr-speed search); only the few
 * candidates are validated byte by byte: 32 Nix-base32 characters (never e, o, t, u), a dash,
 * then the longest run of Nix name characters, cut at 211.
 *
 * When `final` is false, candidates starting in the last `pattern.carry` bytes are left alone
 * and the return value is the offset from which the caller must keep bytes for the next round
 * (they are scanned then, whole). When `final` is true, everything is scanned and `end` is
 * returned.
 *
 * @example const out = new Set<string>(); scanBuffer(refPattern("/nix/store"), Buffer.from("x /nix/store/8haldpz8zb6ch8cj0cj8s6dw8kshdns0-d/bin"), 48, true, out)
 */
export function scanBuffer(pattern: RefPattern, buf: Buffer, end: number, final: boolean, out: Set<string>): number {
  const view = end === buf.length ? buf : buf.subarray(0, end);
  return scanFrom(pattern, view, view.indexOf(pattern.prefix, 0), final, out);
}

/**
 * scanBuffer over all of `view`, its first prefix already found at `at` (-1: none): a caller
 * that searched for the prefix anyway does not search the same bytes twice.
 */
export function scanFrom(pattern: RefPattern, view: Buffer, at: number, final: boolean, out: Set<string>): number {
  const { prefix } = pattern;
  const end = view.length;
  const limit = final ? end : Math.max(0, end - pattern.carry);
  while (at >= 0 && at < limit) {
    const ref = validate(view, at + prefix.length, end);
    if (ref !== undefined) out.add(ref);
    at = view.indexOf(prefix, at + 1);
  }
  return limit;
}

/** The `<hash>-<name>` starting at `start`, if the bytes there form one. */
function validate(buf: Buffer, start: number, end: number): string | undefined {
  const dash = start + HASH_LENGTH;
  if (dash >= end || buf[dash] !== DASH) return undefined;
  for (let i = start; i < dash; i++) if (BASE32[buf[i] as number] === 0) return undefined;
  const stop = Math.min(end, dash + 1 + MAX_NAME_LENGTH);
  let i = dash + 1;
  while (i < stop && NAME[buf[i] as number] === 1) i++;
  if (i === dash + 1) return undefined;
  return buf.toString("latin1", start, i);
}

/** True if the store prefix occurs in `buf[0..end)`: the quick check of a large file's head. */
export function hasPrefix(pattern: RefPattern, buf: Buffer, end: number): boolean {
  return (end === buf.length ? buf : buf.subarray(0, end)).indexOf(pattern.prefix) >= 0;
}

/**
 * References in a string (a symlink's target, a test's text).
 *
 * @example scanString(refPattern("/nix/store"), "/nix/store/8haldpz8zb6ch8cj0cj8s6dw8kshdns0-d/lib") // ["8haldpz8zb6ch8cj0cj8s6dw8kshdns0-d"]
 */
export function scanString(pattern: RefPattern, text: string): string[] {
  const out = new Set<string>();
  const buf = Buffer.from(text);
  scanBuffer(pattern, buf, buf.length, true, out);
  return [...out];
}

/**
 * A scanner for data arriving in chunks of any size (a gunzip or zip-member stream): keeps
 * the unscanned tail of each chunk and scans it with the next, so a split reference is found.
 *
 * @example const s = new StreamScanner(refPattern("/nix/store")); s.push(a); s.push(b); s.end() // Set of base names
 */
export class StreamScanner {
  readonly refs = new Set<string>();
  bytes = 0;
  private tail: Buffer = Buffer.alloc(0);

  constructor(private readonly pattern: RefPattern) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    const buf = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const keep = scanBuffer(this.pattern, buf, buf.length, false, this.refs);
    // Copy: the tail must not pin a large chunk in memory.
    this.tail = Buffer.from(buf.subarray(keep));
  }

  end(): Set<string> {
    scanBuffer(this.pattern, this.tail, this.tail.length, true, this.refs);
    this.tail = Buffer.alloc(0);
    return this.refs;
  }
}
