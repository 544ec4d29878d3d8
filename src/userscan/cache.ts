import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { CacheEntry, FileResult, ReaderSettings } from "./file.js";

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
export type LoadedCache = { body: string; warning?: undefined } | { body?: undefined; warning?: string };

/**
 * Read `file`'s header and return its body if it was written by this version with the same
 * settings (store dir, quick check, --unzip globs: all change what a file's references are).
 * A missing file is a first run (no warning); anything else unusable is a warning.
 *
 * @example loadCache("/var/cache/userscan.cache", settings).body
 */
export function loadCache(file: string, settings: ReaderSettings): LoadedCache {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    return { warning: `cannot read cache ${file} (${(error as Error).message}); scanning everything` };
  }
  const nl = text.indexOf("\n");
  let header: Partial<CacheHeader> | undefined;
  try {
    header = JSON.parse(nl < 0 ? text : text.slice(0, nl)) as Partial<CacheHeader>;
  } catch {
    header = undefined;
  }
  if (header?.format !== CACHE_FORMAT || header.version !== CACHE_VERSION || nl < 0) {
    return { warning: `${file} is not a userscan cache of this version (corrupt or foreign); scanning everything` };
  }
  if (JSON.stringify(header.settings) !== JSON.stringify(settings)) {
    return { warning: `${file} was written with other settings (store dir, --quickcheck or --unzip); scanning everything` };
  }
  return { body: text.slice(nl + 1) };
}

/**
 * Turn a cache body into a lookup; undefined if it does not parse. Entries are checked when
 * looked up, so one bad entry costs a read of that file, not the cache.
 */
export function cacheLookup(body: string): ((key: string) => CacheEntry | undefined) | undefined {
  let files: unknown;
  try {
    files = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof files !== "object" || files === null || Array.isArray(files)) return undefined;
  const table = files as Record<string, unknown>;
  return (key) => {
    if (!Object.hasOwn(table, key)) return undefined;
    const e = table[key];
    if (!Array.isArray(e) || e.length !== 5) return undefined;
    const [size, mtimeMs, ctimeMs, uid, refs] = e as unknown[];
    if (typeof size !== "number" || typeof mtimeMs !== "number" || typeof ctimeMs !== "number" || typeof uid !== "number") return undefined;
    if (!Array.isArray(refs) || !refs.every((r) => typeof r === "string")) return undefined;
    return { size, mtimeMs, ctimeMs, uid, refs: refs as string[] };
  };
}

/**
 * Write the cache for the files seen in this run only: entries of files that vanished are
 * dropped by not being written. Atomic: temp file, then rename.
 */
export function saveCache(file: string, settings: ReaderSettings, results: Iterable<FileResult>): void {
  const files: Record<string, [number, number, number, number, string[]]> = {};
  for (const r of results) {
    if (r.error !== undefined || r.warning !== undefined || r.key === undefined) continue;
    files[r.key] = [r.size as number, r.mtimeMs as number, r.ctimeMs as number, r.uid as number, r.refs];
  }
  const header: CacheHeader = { format: CACHE_FORMAT, version: CACHE_VERSION, settings };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(header)}\n${JSON.stringify(files)}\n`, { mode: 0o600 });
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
