import fs from "node:fs";
import type * as Archives from "./archives.js";
import { globMatcher } from "./glob.js";
import { refPattern, scanFrom, type RefPattern } from "./scan.js";
import { reason } from "./walk.js";

/**
 * One read: 128 KiB plus the carry, so a split reference is whole in the next round. Small
 * enough to stay in the CPU's L2 cache between the kernel's copy and the search (measured:
 * 1 MiB reads scan about 20 % slower here).
 */
export const CHUNK = 128 << 10;

/** What the reader learnt about one file. */
export interface FileResult {
  path: string;
  /** `<dev>:<ino>`: the cache key. Absent when the file could not be opened, or was not stat'ed. */
  key?: string;
  uid?: number;
  size?: number;
  mtimeMs?: number;
  ctimeMs?: number;
  /** Base names `<hash>-<name>` referenced. */
  refs: string[];
  /** True if the refs came from the cache and the file was not read. */
  cached: boolean;
  /** Bytes read from disk (and inflated from archives). */
  bytes: number;
  /** Set when the file could not be read at all. */
  error?: string;
  /** Set when an archive inside it could be read only in part. */
  warning?: string;
  /** Set by readSync when the file is an archive whose contents are still to be scanned (readFile does it). */
  archive?: "gzip" | "zip";
}

/** The cached facts about a file; an entry is valid while size, mtime and ctime are unchanged. */
export interface CacheEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  uid: number;
  refs: string[];
}

/** Settings a reader needs; plain data, so a worker thread can receive them. */
export interface ReaderSettings {
  storeDir: string;
  /** Bytes; 0 turns the quick check off. */
  quickcheck: number;
  unzip: string[];
}

/** A reader: settings compiled once, one buffer (and one set of references) reused for every file. */
export interface Reader {
  pattern: RefPattern;
  quickcheck: number;
  unzip: (p: string) => boolean;
  buf: Buffer;
  refs: Set<string>;
  lookup?: ((key: string) => CacheEntry | undefined) | undefined;
}

export function makeReader(settings: ReaderSettings, lookup?: (key: string) => CacheEntry | undefined): Reader {
  const pattern = refPattern(settings.storeDir);
  return { pattern, quickcheck: settings.quickcheck, unzip: globMatcher(settings.unzip), buf: Buffer.allocUnsafe(CHUNK + pattern.carry), refs: new Set(), lookup };
}

const NO_REFS: string[] = [];

/**
 * Find the references in one regular file. With a cache, an unchanged file (same device,
 * inode, size, mtime, ctime) is only stat'ed. Otherwise it is read in 128 KiB chunks; when
 * the first `quickcheck` bytes hold no store prefix the rest is skipped. gzip files are
 * inflated and scanned; files matching --unzip have their zip members scanned too.
 *
 * @example await readFile(makeReader({ storeDir: "/nix/store", quickcheck: 512 * 1024, unzip: [] }), "/home/alice/.bashrc")
 */
export async function readFile(reader: Reader, path: string): Promise<FileResult> {
  if (reader.lookup) {
    const st = fs.statSync(path, { throwIfNoEntry: false });
    if (st?.isFile()) {
      const hit = reader.lookup(`${st.dev}:${st.ino}`);
      if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ctimeMs === st.ctimeMs) {
        return { path, key: `${st.dev}:${st.ino}`, uid: st.uid, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, refs: hit.refs, cached: true, bytes: 0 };
      }
    }
  }
  const result = readSync(reader, path, true);
  return result.archive ? finishArchive(reader, result) : result;
}

/**
 * The synchronous part of readFile, without the cache: open, read and scan, close. No promise,
 * no closure: this runs once per file on the hot path. The file is fstat'ed (for the cache key,
 * size, times and owner) when `stat` is true, else only when it holds references (the owner of
 * the roots). When it is an archive, `archive` says so and finishArchive scans the contents.
 */
export function readSync(reader: Reader, path: string, stat: boolean): FileResult {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    return { path, refs: NO_REFS, cached: false, bytes: 0, error: reason(error) };
  }
  const refs = reader.refs;
  refs.clear();
  let result: FileResult;
  try {
    const st = stat ? fs.fstatSync(fd) : undefined;
    const read = readChunks(reader, fd, st ? st.size : -1, refs);
    result = { path, refs: NO_REFS, cached: false, bytes: read >= 0 ? read : -read - 1 };
    if (read < 0) result.archive = "gzip";
    else if (reader.unzip(path)) result.archive = "zip";
    const owner = st ?? (refs.size > 0 || result.archive ? fs.fstatSync(fd) : undefined);
    if (owner) {
      result.uid = owner.uid;
      if (st) {
        result.key = `${st.dev}:${st.ino}`;
        result.size = st.size;
        result.mtimeMs = st.mtimeMs;
        result.ctimeMs = st.ctimeMs;
      }
    }
  } catch (error) {
    return { path, refs: NO_REFS, cached: false, bytes: 0, error: reason(error) };
  } finally {
    fs.closeSync(fd);
  }
  if (refs.size > 0) result.refs = [...refs];
  return result;
}

let archives: Promise<typeof Archives> | undefined;

/** Scan the contents of the archive readSync found (gzip, or a zip matching --unzip). */
export async function finishArchive(reader: Reader, result: FileResult): Promise<FileResult> {
  // Loaded on the first archive only: streams and zlib cost start-up time most scans need not pay.
  archives ??= import("./archives.js");
  const { scanGzip, scanZip } = await archives;
  const scan: Archives.ArchiveScan = result.archive === "gzip" ? await scanGzip(reader.pattern, result.path) : await scanZip(reader.pattern, result.path);
  delete result.archive;
  if (scan.refs.size > 0) result.refs = [...new Set([...result.refs, ...scan.refs])];
  result.bytes += scan.bytes;
  if (scan.error) result.warning = `${result.path}: ${scan.error}`;
  return result;
}

/**
 * The chunk loop: read, scan, keep the tail, repeat. No per-byte JavaScript on the way. `size`
 * is the file's size when known (saves the read that returns 0), else -1. Returns the bytes
 * read, or -(bytes + 1) when the file starts with gzip's magic bytes (then nothing is scanned).
 */
function readChunks(reader: Reader, fd: number, size: number, refs: Set<string>): number {
  const { buf, pattern, quickcheck } = reader;
  let keep = 0;
  let bytes = 0;
  let first = true;
  let sawPrefix = false;
  for (;;) {
    const n = fs.readSync(fd, buf, keep, buf.length - keep, null);
    bytes += n;
    const end = keep + n;
    if (first) {
      first = false;
      // gzip's magic bytes: 1f 8b, method 8 (deflate).
      if (end >= 3 && buf[0] === 0x1f && buf[1] === 0x8b && buf[2] === 0x08) return -bytes - 1;
    }
    const final = n === 0 || (size >= 0 && bytes >= size);
    // Most chunks hold no prefix at all: one native search says so, and nothing else runs.
    const view = end === buf.length ? buf : buf.subarray(0, end);
    const at = view.indexOf(pattern.prefix);
    sawPrefix ||= at >= 0;
    // The quick check: no store prefix in the head means no reference worth the rest.
    if (!sawPrefix && (final || (quickcheck > 0 && bytes >= quickcheck))) return bytes;
    const from = at >= 0 ? scanFrom(pattern, view, at, final, refs) : final ? end : Math.max(0, end - pattern.carry);
    if (final) return bytes;
    buf.copyWithin(0, from, end);
    keep = end - from;
  }
}
