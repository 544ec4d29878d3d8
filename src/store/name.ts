import { CongruentError } from "../errors.js";

/** Longest name Nix accepts: 211 = 255 (NAME_MAX) − 32 (hash) − 1 (dash) − 11 (room for suffixes). */
export const MAX_NAME_LENGTH = 211;

const NAME_CHAR = /[A-Za-z0-9+\-._?=]/;

/** Store path base name: 32 Nix-base32 chars, a dash, a name. Groups: hash, name. */
export const STORE_BASENAME_RE = /^([0-9a-df-np-sv-z]{32})-([A-Za-z0-9+\-._?=]{1,211})$/;

/**
 * Throw E_STORE_NAME unless `name` is a valid store-path name: 1..211 characters from
 * `[A-Za-z0-9+-._?=]`, not starting with '.'. (Nix 2.8 itself still accepts a leading dot;
 * later Nix rejects it, and so do we, so our names are valid for every Nix.)
 *
 * @example checkName("nginx-1.22.1"); checkName("a b") // throws: illegal character ' '
 */
export function checkName(name: string): void {
  if (name.length === 0) throw new CongruentError("E_STORE_NAME", "store path name is empty");
  if (name.length > MAX_NAME_LENGTH) {
    throw new CongruentError("E_STORE_NAME", `store path name "${name}" is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (name.startsWith(".")) throw new CongruentError("E_STORE_NAME", `store path name "${name}" starts with illegal character '.'`);
  for (const c of name) {
    if (!NAME_CHAR.test(c)) throw new CongruentError("E_STORE_NAME", `store path name "${name}" contains illegal character '${c}'`);
  }
}

/** True if `name` passes {@link checkName}. */
export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && !name.startsWith(".") && [...name].every((c) => NAME_CHAR.test(c));
}

export interface ParsedStorePath {
  storeDir: string;
  hash: string;
  name: string;
  /** `<hash>-<name>` */
  baseName: string;
}

/**
 * Split `<storeDir>/<32 base32>-<name>` into its parts; undefined if `p` is not a store path
 * (of `storeDir`, when given). Only the top-level path: `/nix/store/…-x/bin/sh` is not one.
 * Parsing is as lenient as Nix 2.8 (a leading dot is accepted) so scanners miss nothing.
 *
 * @example parseStorePath("/nix/store/8haldpz8zb6ch8cj0cj8s6dw8kshdns0-d")?.name // "d"
 */
export function parseStorePath(p: string, storeDir?: string): ParsedStorePath | undefined {
  const slash = p.lastIndexOf("/");
  if (slash <= 0) return undefined;
  const dir = p.slice(0, slash);
  if (storeDir !== undefined && dir !== storeDir) return undefined;
  const baseName = p.slice(slash + 1);
  const m = STORE_BASENAME_RE.exec(baseName);
  if (!m) return undefined;
  return { storeDir: dir, hash: m[1] as string, name: m[2] as string, baseName };
}

/**
 * A global regex finding store paths of `storeDir` inside arbitrary text (scanners use it);
 * group 1 is the base name. Names stop at the first character Nix forbids.
 *
 * @example "x=/nix/store/8haldpz8zb6ch8cj0cj8s6dw8kshdns0-d/bin".match(storePathPattern("/nix/store"))
 */
export function storePathPattern(storeDir: string): RegExp {
  const dir = storeDir.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(`${dir}/([0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\\-._?=]+)`, "g");
}
