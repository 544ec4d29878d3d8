import fs from "node:fs";
import { isGzip, scanGzip, scanZip } from "./archives.js";
import { globMatcher } from "./glob.js";
import { hasPrefix, refPattern, scanBuffer, type RefPattern } from "./scan.js";
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
  /** `<dev>:<ino>`: the cache key. Absent when the file could not be opened. */
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

/** A reader: settings compiled once, one buffer reused for every file. */
export interface Reader {
  pattern: RefPattern;
  quickcheck: number;
  unzip: (p: string) => boolean;
  buf: Buffer;
  lookup?: ((key: string) => CacheEntry | undefined) | undefined;
}

export function makeReader(settings: ReaderSettings, lookup?: (key: string) => CacheEntry | undefined): Reader {
  const pattern = refPattern(settings.storeDir);
  return { pattern, quickcheck: settings.quickcheck, unzip: globMatcher(settings.unzip), buf: Buffer.allocUnsafe(CHUNK + pattern.carry), lookup };
}

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
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    return { path, refs: [], cached: false, bytes: 0, error: reason(error) };
  }
  let st: fs.Stats;
  const refs = new Set<string>();
  let bytes = 0;
  let gzip = false;
  try {
    st = fs.fstatSync(fd);
    ({ bytes, gzip } = readChunks(reader, fd, st.size, refs));
  } catch (error) {
    return { path, refs: [], cached: false, bytes, error: reason(error) };
  } finally {
    fs.closeSync(fd);
  }
  const result: FileResult = { path, key: `${st.dev}:${st.ino}`, uid: st.uid, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, refs: [], cached: false, bytes };
  const archive = gzip ? await scanGzip(reader.pattern, path) : reader.unzip(path) ? await scanZip(reader.pattern, path) : undefined;
  if (archive) {
    for (const r of archive.refs) refs.add(r);
    result.bytes += archive.bytes;
    if (archive.error) result.warning = `${path}: ${archive.error}`;
  }
  result.refs = [...refs];
  return result;
}

/** The chunk loop: read, scan, keep the tail, repeat. No per-byte JavaScript on the way. */
function readChunks(reader: Reader, fd: number, size: number, refs: Set<string>): { bytes: number; gzip: boolean } {
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
      if (isGzip(buf, end)) return { bytes, gzip: true };
    }
    const final = n === 0 || bytes >= size;
    // Most chunks hold no prefix at all: one native search says so, and nothing else runs.
    const found = hasPrefix(pattern, buf, end);
    sawPrefix ||= found;
    // The quick check: no store prefix in the head means no reference worth the rest.
    if (!sawPrefix && (final || (quickcheck > 0 && bytes >= quickcheck))) return { bytes, gzip: false };
    const from = found ? scanBuffer(pattern, buf, end, final, refs) : final ? end : Math.max(0, end - pattern.carry);
    if (final) return { bytes, gzip: false };
    buf.copyWithin(0, from, end);
    keep = end - from;
  }
}
