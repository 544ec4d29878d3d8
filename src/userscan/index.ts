import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { STORE_BASENAME_RE } from "../store/name.js";
import { acquireLock, loadCache, saveCache } from "./cache.js";
import type { ReaderSettings } from "./file.js";
import { nativeAddon, readNative } from "./native.js";
import type { Note, ReadContext } from "./reader.js";
import { readTypeScript } from "./reader-ts.js";
import { applyRoots, rootLink, userNameResolver } from "./roots.js";
import { newWalkState } from "./walk.js";

export interface UserscanOptions {
  /** Files and directories to scan. */
  paths: string[];
  /** The store directory references point into (default /nix/store). */
  storeDir?: string;
  /**
   * A chroot store's root, as in `nix-store --store DIR`: store paths are looked up in
   * `DIR/<storeDir>` and gcrootsDir defaults to `DIR/nix/var/nix/gcroots`. Default: none.
   */
  storeRoot?: string;
  /** Default `/nix/var/nix/gcroots` (under storeRoot when given). */
  gcrootsDir?: string;
  /** Cache file; with it, unchanged files are not read again. */
  cacheFile?: string;
  /** Only find references; register and remove no roots. */
  list?: boolean;
  exclude?: string[];
  /** Globs of files whose zip members are scanned too (e.g. `*.whl`). */
  unzip?: string[];
  /** KiB of a file's head that must hold a store prefix for the rest to be read; 0 = always read all. Default 512. */
  quickcheckKiB?: number;
  /** Reader threads besides this one (which reads too); 0 reads in this thread only. Default: the number of CPUs less one, at most 3. */
  threads?: number;
  /** How long to wait for another run holding the cache's lock. Default 10 minutes. */
  lockTimeoutMs?: number;
  onProgress?: (p: { files: number; bytes: number }) => void;
  onWarning?: (message: string) => void;
}

export interface Reference {
  /** `<storeDir>/<hash>-<name>`, as the store has it. */
  storePath: string;
  /** False when no store path with this hash exists: nothing to protect. */
  inStore: boolean;
  /** The files (and symlinks) referring to it. */
  files: string[];
}

export interface UserscanResult {
  references: Reference[];
  rootsAdded: string[];
  rootsRemoved: string[];
  unreadable: { path: string; error: string }[];
  warnings: string[];
  /** Regular files and symlinks looked at. */
  files: number;
  filesRead: number;
  filesCached: number;
  /** Bytes read (and inflated from archives). */
  bytes: number;
  /** Which reader ran: the native addon (built at npm ci), or the TypeScript one (no addon, or CONGRUENT_USERSCAN_NATIVE=0). */
  reader: "native" | "typescript";
}

/**
 * Scan `paths` for store-path references and register each referenced store path as a GC root
 * of the file's owner (unless `list`). Throws CongruentError on hard errors (bad arguments,
 * lock timeout, roots not writable); files that cannot be read are reported in `unreadable`.
 *
 * @example const r = await userscan({ paths: ["/home"], cacheFile: "/var/cache/congruent/userscan.cache" }); r.rootsAdded
 */
export async function userscan(options: UserscanOptions): Promise<UserscanResult> {
  const storeDir = normaliseDir(options.storeDir ?? "/nix/store", "--store-dir");
  const storeRoot = options.storeRoot === undefined ? undefined : path.resolve(options.storeRoot);
  const realStore = storeRoot === undefined ? storeDir : path.join(storeRoot, storeDir);
  const gcrootsDir = path.resolve(options.gcrootsDir ?? (storeRoot === undefined ? "/nix/var/nix/gcroots" : path.join(storeRoot, "nix/var/nix/gcroots")));
  const quickcheckKiB = options.quickcheckKiB ?? 512;
  if (!Number.isInteger(quickcheckKiB) || quickcheckKiB < 0) throw new CongruentError("E_USAGE", `--quickcheck must be a whole number of KiB ≥ 0, not ${quickcheckKiB}`);
  if (options.paths.length === 0) throw new CongruentError("E_USAGE", "no path to scan");
  const paths = options.paths.map((p) => path.resolve(p));
  const settings: ReaderSettings = { storeDir, quickcheck: quickcheckKiB * 1024, unzip: options.unzip ?? [] };
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning?.(m);
  };

  const release = options.cacheFile
    ? await acquireLock(`${path.resolve(options.cacheFile)}.lock`, options.lockTimeoutMs, (pid) => warn(`waiting for userscan process ${pid} (cache lock)`))
    : undefined;
  try {
    const cache = options.cacheFile ? loadCache(path.resolve(options.cacheFile), settings) : {};
    if (cache.warning) warn(cache.warning);
    const state = newWalkState();
    const byRef = new Map<string, Set<string>>();
    const owners = new Map<string, number>();
    const note: Note = (file, uid, refs, trusted) => {
      let any = false;
      for (const ref of refs) {
        if (!trusted && !STORE_BASENAME_RE.test(ref)) continue; // a tampered cache cannot invent references
        let files = byRef.get(ref);
        if (!files) byRef.set(ref, (files = new Set()));
        files.add(file);
        any = true;
      }
      // Owners name the roots; a --list run makes none.
      if (any && !options.list) owners.set(file, uid);
    };
    const ctx: ReadContext = {
      paths,
      settings,
      exclude: options.exclude ?? [],
      threads: options.threads ?? Math.min(os.availableParallelism() - 1, 3),
      ...(options.cacheFile ? { cache: { body: cache.body } } : {}),
      state,
      note,
      warn,
      onProgress: options.onProgress,
    };
    const addon = nativeAddon();
    const { files, filesRead, filesCached, bytes, cacheCorrupt, cacheBody } = addon ? await readNative(addon, ctx) : await readTypeScript(ctx);
    if (cacheCorrupt) warn(`${options.cacheFile} is corrupt; scanned everything`);
    if (options.cacheFile && cacheBody !== undefined) saveCache(path.resolve(options.cacheFile), settings, cacheBody);

    const references = resolveReferences(byRef, storeDir, realStore);
    let changes = { added: [] as string[], removed: [] as string[] };
    if (!options.list) {
      const userOf = userNameResolver();
      const desired = new Map<string, string>();
      for (const ref of references) {
        if (!ref.inStore) continue;
        const hash = path.basename(ref.storePath).slice(0, 32);
        for (const file of ref.files) desired.set(rootLink(gcrootsDir, userOf(owners.get(file) as number), file, hash), ref.storePath);
      }
      changes = applyRoots(gcrootsDir, storeDir, desired, paths, state);
    }
    return {
      references,
      rootsAdded: changes.added,
      rootsRemoved: changes.removed,
      unreadable: sortLocale(state.unreadable, (u) => u.path),
      // Threads finish in any order; the report does not depend on it (stderr had them as they came).
      warnings: sortLocale(warnings, (w) => w),
      files,
      filesRead,
      filesCached,
      bytes,
      reader: addon ? "native" : "typescript",
    };
  } finally {
    release?.();
  }
}

/**
 * Which referenced base names are in the store. A name is looked up as found; if absent, the
 * hash alone decides (as Nix's own reference scanner does): a reference whose name ran on into
 * adjacent name characters (`…-foo` followed by `z` in a .pyc) still roots `<hash>-foo`.
 */
function resolveReferences(byRef: Map<string, Set<string>>, storeDir: string, realStore: string): Reference[] {
  const merged = new Map<string, Reference>();
  let byHash: Map<string, string> | undefined;
  // Both directories are normalised and a base name holds no slash: joining is concatenating.
  const real = realStore === "/" ? "/" : `${realStore}/`;
  const store = storeDir === "/" ? "/" : `${storeDir}/`;
  for (const [base, files] of byRef) {
    let name: string | undefined = fs.existsSync(real + base) || isSymlink(real + base) ? base : undefined;
    if (name === undefined) {
      byHash ??= storeIndex(realStore);
      name = byHash.get(base.slice(0, 32));
    }
    const storePath = store + (name ?? base);
    const ref = merged.get(storePath);
    if (ref) for (const f of files) ref.files.push(f);
    else merged.set(storePath, { storePath, inStore: name !== undefined, files: [...files] });
  }
  const out = sortLocale([...merged.values()], (r) => r.storePath);
  for (const r of out) r.files = [...new Set(r.files)].sort();
  return out;
}

/**
 * `items` sorted by `key` in `localeCompare` order, the same array (and ties in the same order)
 * as `items.sort((a, b) => key(a).localeCompare(key(b)))`, but usually at the cost of a plain
 * native code-unit sort: when the keys are unique and, sorted that way, strictly increasing for
 * localeCompare too, that is the one order there is; else the collation sort runs.
 *
 * @example sortLocale(["b", "a"], (s) => s) // ["a", "b"]
 */
export function sortLocale<T>(items: T[], key: (item: T) => string): T[] {
  const keys = items.map(key);
  const byKey = new Map<string, T>();
  for (let i = 0; i < items.length; i++) byKey.set(keys[i] as string, items[i] as T);
  if (byKey.size === items.length) {
    keys.sort(); // code-unit order, natively
    let increasing = true;
    for (let i = 1; i < keys.length && increasing; i++) increasing = (keys[i - 1] as string).localeCompare(keys[i] as string) < 0;
    if (increasing) return keys.map((k) => byKey.get(k) as T);
  }
  return items.sort((a, b) => key(a).localeCompare(key(b)));
}

function isSymlink(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

/** hash → base name of every entry of the store directory (read once, only on a miss). */
function storeIndex(realStore: string): Map<string, string> {
  const index = new Map<string, string>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(realStore);
  } catch {
    return index;
  }
  for (const n of names) if (STORE_BASENAME_RE.test(n)) index.set(n.slice(0, 32), n);
  return index;
}

function normaliseDir(dir: string, flag: string): string {
  if (!path.isAbsolute(dir)) throw new CongruentError("E_USAGE", `${flag} must be an absolute path, not "${dir}"`);
  return path.posix.normalize(dir).replace(/\/+$/, "") || "/";
}
