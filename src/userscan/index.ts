import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { STORE_BASENAME_RE } from "../store/name.js";
import { acquireLock, loadCache, saveCache } from "./cache.js";
import type { FileResult, ReaderSettings } from "./file.js";
import { globMatcher } from "./glob.js";
import { applyRoots, rootLink, userNameResolver } from "./roots.js";
import { refPattern, scanString } from "./scan.js";
import { newWalkState, walk } from "./walk.js";
import { createPool } from "./workers.js";

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
  /** Reader threads; 0 reads in this thread. Default: the number of CPUs, at most 4. */
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

/** Files per message to a reader thread: enough to amortise the message, small enough to balance. */
const BATCH = 64;

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
    const threads = options.threads ?? Math.min(os.availableParallelism(), 4);
    const pool = createPool(threads, settings, cache.body);
    const state = newWalkState();
    const results: FileResult[] = [];
    const pattern = refPattern(storeDir);
    const byRef = new Map<string, Set<string>>();
    const owners = new Map<string, number>();
    const note = (file: string, uid: number, refs: Iterable<string>) => {
      let any = false;
      for (const ref of refs) {
        if (!STORE_BASENAME_RE.test(ref)) continue; // a tampered cache cannot invent references
        let files = byRef.get(ref);
        if (!files) byRef.set(ref, (files = new Set()));
        files.add(file);
        any = true;
      }
      if (any) owners.set(file, uid);
    };
    let files = 0;
    let bytes = 0;
    const collect = (batch: FileResult[]) => {
      for (const r of batch) {
        results.push(r);
        bytes += r.bytes;
        if (r.error !== undefined) state.unreadable.push({ path: r.path, error: r.error });
        else note(r.path, r.uid as number, r.refs);
        if (r.warning !== undefined) warn(r.warning);
      }
      options.onProgress?.({ files, bytes });
    };

    try {
      const inflight = new Set<Promise<void>>();
      const maxInflight = Math.max(threads, 1) * 2;
      let batch: string[] = [];
      const flush = async () => {
        const p: Promise<void> = pool.read(batch).then(collect);
        batch = [];
        inflight.add(p);
        void p.finally(() => inflight.delete(p)).catch(() => undefined);
        if (inflight.size >= maxInflight) await Promise.race(inflight);
      };
      const excluded = globMatcher(options.exclude ?? []);
      for (const entry of walk({ paths, excluded }, state)) {
        files++;
        if (entry.kind === "symlink") note(entry.path, entry.uid, scanString(pattern, entry.target));
        else {
          batch.push(entry.path);
          if (batch.length >= BATCH) await flush();
        }
      }
      if (batch.length > 0) await flush();
      await Promise.all(inflight);
    } finally {
      await pool.close();
    }
    if (pool.cacheCorrupt) warn(`${options.cacheFile} is corrupt; scanned everything`);
    if (options.cacheFile) saveCache(path.resolve(options.cacheFile), settings, results);

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
    const cached = results.filter((r) => r.cached).length;
    return {
      references,
      rootsAdded: changes.added,
      rootsRemoved: changes.removed,
      unreadable: state.unreadable.sort((a, b) => a.path.localeCompare(b.path)),
      warnings,
      files,
      filesRead: results.filter((r) => !r.cached && r.error === undefined).length,
      filesCached: cached,
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
  for (const [base, files] of byRef) {
    let name: string | undefined = fs.existsSync(path.join(realStore, base)) || isSymlink(path.join(realStore, base)) ? base : undefined;
    if (name === undefined) {
      byHash ??= storeIndex(realStore);
      name = byHash.get(base.slice(0, 32));
    }
    const storePath = path.posix.join(storeDir, name ?? base);
    const ref = merged.get(storePath) ?? { storePath, inStore: name !== undefined, files: [] };
    ref.files.push(...files);
    merged.set(storePath, ref);
  }
  const out = [...merged.values()].sort((a, b) => a.storePath.localeCompare(b.storePath));
  for (const r of out) r.files = [...new Set(r.files)].sort();
  return out;
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
