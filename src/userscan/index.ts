import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { STORE_BASENAME_RE } from "../store/name.js";
import { acquireLock, cacheRow, loadCache, parseCacheBody, saveCache, type CacheRow } from "./cache.js";
import type { ReaderSettings } from "./file.js";
import { globMatcher } from "./glob.js";
import { applyRoots, rootLink, userNameResolver } from "./roots.js";
import { refPattern, scanString } from "./scan.js";
import { newWalkState, walk } from "./walk.js";
import { createPool, type BatchResult } from "./workers.js";

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
}

/**
 * The store paths a symlink refers to: named in its target, or reached through further links
 * (`~/.nix-profile` → a user profile → its generation → the store path it uses now).
 */
function linkReferences(pattern: ReturnType<typeof refPattern>, link: string, target: string): string[] {
  const named = scanString(pattern, target);
  if (named.length > 0) return named;
  try {
    return scanString(pattern, fs.realpathSync(link));
  } catch {
    return []; // dangling: it uses nothing
  }
}

/** Files to read from which worker threads are worth starting (they take tens of milliseconds to load). */
const SPAWN_FILES = 2000;



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
    // The cache is answered here, in one loop of stat calls: a warm rescan creates no promise
    // and sends no message per file. Rows of unchanged files are carried over as parsed.
    const table = cache.body === undefined ? undefined : parseCacheBody(cache.body);
    const stat = options.cacheFile !== undefined;
    const saved = new Map<string, CacheRow>();
    let cacheChanged = table === undefined;
    const threads = options.threads ?? Math.min(os.availableParallelism() - 1, 3);
    const pool = createPool(threads, settings);
    const state = newWalkState();
    const pattern = refPattern(storeDir);
    const byRef = new Map<string, Set<string>>();
    const owners = new Map<string, number>();
    /** Record `file`'s references. `trusted`: found by the scanner here, so well-formed by construction. */
    const note = (file: string, uid: number, refs: readonly string[], trusted: boolean) => {
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
    let files = 0;
    let filesRead = 0;
    let filesCached = 0;
    let bytes = 0;
    const collect = (batch: BatchResult) => {
      bytes += batch.bytes;
      filesRead += batch.files;
      for (const r of batch.results) {
        if (r.error !== undefined) {
          filesRead--;
          state.unreadable.push({ path: r.path, error: r.error });
        } else if (r.refs.length > 0) note(r.path, r.uid as number, r.refs, true);
        if (r.warning !== undefined) warn(r.warning);
        else if (stat && r.error === undefined && r.key !== undefined) saved.set(r.key, [r.size as number, r.mtimeMs as number, r.ctimeMs as number, r.uid as number, r.refs]);
      }
      options.onProgress?.({ files, bytes });
    };

    try {
      // The walk first (with the cache's answers), then the reading: the threads, started once
      // there is enough to read, load while this thread walks; then all take files from one list.
      const toRead: string[] = [];
      const excluded = globMatcher(options.exclude ?? []);
      for (const entry of walk({ paths, excluded }, state)) {
        if ((++files & 1023) === 0) options.onProgress?.({ files, bytes });
        if (entry.kind === "symlink") {
          note(entry.path, entry.uid, linkReferences(pattern, entry.path, entry.target), true);
          continue;
        }
        if (table) {
          const st = fs.statSync(entry.path, { throwIfNoEntry: false });
          if (st?.isFile()) {
            const key = `${st.dev}:${st.ino}`;
            // A key `<number>:<number>` is never an Object.prototype property: no hasOwn needed.
            let row = cacheRow(table[key]);
            if (row && row[0] === st.size && row[1] === st.mtimeMs && row[2] === st.ctimeMs) {
              filesCached++;
              if (row[3] !== st.uid) {
                row = [row[0], row[1], row[2], st.uid, row[4]];
                cacheChanged = true;
              }
              saved.set(key, row);
              if (row[4].length > 0) note(entry.path, st.uid, row[4], false);
              continue;
            }
          }
        }
        cacheChanged = true;
        if (toRead.push(entry.path) === SPAWN_FILES) pool.start();
      }
      await pool.readAll(toRead, stat, collect);
    } finally {
      await pool.close();
    }
    if (cache.body !== undefined && table === undefined) warn(`${options.cacheFile} is corrupt; scanned everything`);
    // Nothing read and nothing dropped: the cache on disk already says all this run learnt.
    if (options.cacheFile && (cacheChanged || saved.size !== Object.keys(table ?? {}).length)) saveCache(path.resolve(options.cacheFile), settings, Object.fromEntries(saved));

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
      warnings,
      files,
      filesRead,
      filesCached,
      bytes,
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
