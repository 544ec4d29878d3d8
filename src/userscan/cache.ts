import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { CacheEntry, ReaderSettings } from "./file.js";

/**
 * The cache file is two lines: a JSON header saying what made it, then one JSON object
 * `{"<dev>:<ino>": [size, mtimeMs, ctimeMs, uid, [refs…]], …}`. The header is checked in the
 * main thread; the body is parsed by each worker itself (in parallel, no copying of a large
 * object between threads). Written to a temp file and renamed: a crash leaves the old cache.
 */
export const CACHE_FORMAT = "congruent-userscan-cache";
export const CACHE_VERSION = 1;

interface CacheHeader {
  format: string;
  version: number;
  settings: ReaderSettings;
}

/** The body of a usable cache, or a warning saying why it is not used (and a cold scan follows). */
export type LoadedCache = { body: Buffer; warning?: undefined } | { body?: undefined; warning?: string };

/**
 * Read `file`'s header and return its body if it was written by this version with the same
 * settings (store dir, quick check, --unzip globs: all change what a file's references are).
 * A missing file is a first run (no warning); anything else unusable is a warning. The body
 * stays bytes: the native reader parses it as it is, the TypeScript one decodes it.
 *
 * @example loadCache("/var/cache/userscan.cache", settings).body
 */
export function loadCache(file: string, settings: ReaderSettings): LoadedCache {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    return { warning: `cannot read cache ${file} (${(error as Error).message}); scanning everything` };
  }
  const nl = data.indexOf(0x0a);
  let header: Partial<CacheHeader> | undefined;
  try {
    header = JSON.parse(data.toString("utf8", 0, nl < 0 ? data.length : nl)) as Partial<CacheHeader>;
  } catch {
    header = undefined;
  }
  if (header?.format !== CACHE_FORMAT || header.version !== CACHE_VERSION || nl < 0) {
    return { warning: `${file} is not a userscan cache of this version (corrupt or foreign); scanning everything` };
  }
  if (JSON.stringify(header.settings) !== JSON.stringify(settings)) {
    return { warning: `${file} was written with other settings (store dir, --quickcheck or --unzip); scanning everything` };
  }
  return { body: data.subarray(nl + 1) };
}

/** A cache body's entry: `[size, mtimeMs, ctimeMs, uid, [refs…]]`, as parsed. */
export type CacheRow = [number, number, number, number, string[]];

/** A parsed cache body (`"<dev>:<ino>"` → row, rows unchecked), or undefined if it does not parse. */
export function parseCacheBody(body: string): Record<string, unknown> | undefined {
  let files: unknown;
  try {
    files = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof files !== "object" || files === null || Array.isArray(files)) return undefined;
  return files as Record<string, unknown>;
}

/** `e` if it is a well-formed row, else undefined: one bad entry costs a read of that file, not the cache. */
export function cacheRow(e: unknown): CacheRow | undefined {
  if (!Array.isArray(e) || e.length !== 5) return undefined;
  if (typeof e[0] !== "number" || typeof e[1] !== "number" || typeof e[2] !== "number" || typeof e[3] !== "number") return undefined;
  const refs: unknown = e[4];
  if (!Array.isArray(refs)) return undefined;
  for (const r of refs) if (typeof r !== "string") return undefined;
  return e as CacheRow;
}

/**
 * Turn a cache body into a lookup; undefined if it does not parse. Entries are checked when
 * looked up, so one bad entry costs a read of that file, not the cache.
 */
export function cacheLookup(body: string): ((key: string) => CacheEntry | undefined) | undefined {
  const table = parseCacheBody(body);
  if (!table) return undefined;
  return (key) => {
    const row = Object.hasOwn(table, key) ? cacheRow(table[key]) : undefined;
    return row && { size: row[0], mtimeMs: row[1], ctimeMs: row[2], uid: row[3], refs: row[4] };
  };
}

/**
 * Write the cache for the files seen in this run only: `body` is the JSON object of their rows
 * (key → row; see CACHE_FORMAT), so entries of files that vanished are dropped by not being in
 * it. Atomic: temp file, then rename.
 */
export function saveCache(file: string, settings: ReaderSettings, body: string | Buffer): void {
  const header: CacheHeader = { format: CACHE_FORMAT, version: CACHE_VERSION, settings };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), typeof body === "string" ? Buffer.from(body) : body, Buffer.from("\n")]), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw new CongruentError("E_STORE_IO", `cannot write cache ${file}: ${(error as Error).message}`);
  }
}

/** How long a lock may be empty (its writer between create and write) before it counts as stale. */
const EMPTY_LOCK_GRACE_MS = 5_000;

/**
 * Serialise runs sharing a cache: `<cache>.lock` holds the owner's PID, created with O_EXCL.
 * A lock whose PID is no longer running is stale and broken; breaking goes through a second
 * O_EXCL file (`.lock.break`) so two waiters cannot both break it and delete each other's new
 * lock. Waits up to `timeoutMs`, then throws E_LOCKED. Returns the release function.
 *
 * @example const release = await acquireLock("/var/cache/userscan.cache.lock"); try { … } finally { release(); }
 */
export async function acquireLock(lock: string, timeoutMs = 600_000, onWait?: (pid: number) => void): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      const fd = fs.openSync(lock, "wx", 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        if (readPid(lock) === process.pid) fs.rmSync(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new CongruentError("E_STORE_IO", `cannot create lock ${lock}: ${(error as Error).message}`);
      }
    }
    const pid = readPid(lock);
    if (isStale(lock, pid) && breakStale(lock, pid)) continue;
    if (Date.now() > deadline) throw new CongruentError("E_LOCKED", `${lock} is held by process ${pid}; another userscan is running`);
    if (!told && pid !== undefined) {
      onWait?.(pid);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readPid(lock: string): number | undefined {
  try {
    const n = Number.parseInt(fs.readFileSync(lock, "utf8").trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function isStale(lock: string, pid: number | undefined): boolean {
  if (pid === undefined) {
    const st = fs.statSync(lock, { throwIfNoEntry: false });
    return st !== undefined && Date.now() - st.mtimeMs > EMPTY_LOCK_GRACE_MS;
  }
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** True if this process did the breaking (the caller retries at once), false if someone else is. */
function breakStale(lock: string, pid: number | undefined): boolean {
  const breaker = `${lock}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breaker, "wx");
  } catch {
    // Someone else is breaking it; a breaker left by a crash is itself stale after the grace time.
    const st = fs.statSync(breaker, { throwIfNoEntry: false });
    if (st && Date.now() - st.mtimeMs > EMPTY_LOCK_GRACE_MS) fs.rmSync(breaker, { force: true });
    return false;
  }
  try {
    // Still the same stale lock (not one a faster waiter just created)?
    if (readPid(lock) === pid) fs.rmSync(lock, { force: true });
  } finally {
    fs.closeSync(fd);
    fs.rmSync(breaker, { force: true });
  }
  return true;
}
