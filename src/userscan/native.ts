import { createRequire } from "node:module";
import util from "node:util";
import { finishArchive, makeReader, type FileResult } from "./file.js";
import { splitGlobs } from "./glob.js";
import type { ReadContext, ReadOutcome } from "./reader.js";

/** The addon's options (native/userscan/userscan.c, `scan`). */
export interface NativeOptions {
  paths: string[];
  /** `<storeDir>/` */
  prefix: string;
  quickcheck: number;
  /** Threads in all (at least 1). */
  threads: number;
  exclude: { base: string[]; full: string[] };
  unzip: { base: string[]; full: string[] };
  /** Stat every file and make a new cache body. */
  stat: boolean;
  cache?: Buffer;
  /** [files, bytes] so far, written by the scanning threads. */
  progress?: Float64Array;
}

/** The addon's answer: NUL-separated records (see readNative), counts, the new cache body. */
export interface NativeResult {
  refs: string;
  archives: string;
  unreadable: string;
  walked: string;
  skipped: string;
  files: number;
  filesRead: number;
  filesCached: number;
  bytes: number;
  cacheCorrupt: boolean;
  /**
   * The new cache body's entries, comma-separated (archives' still to add), when this run learnt
   * something: a file read, an owner changed, an entry dropped. Absent: the old body stands.
   */
  cache?: Buffer;
}

export interface NativeAddon {
  scan(options: NativeOptions): Promise<NativeResult>;
  /** One glob against one path, as the walk matches --exclude and --unzip (for tests). */
  globMatch(glob: string, path: string): boolean;
}

/** Where node-gyp puts the addon, from src/userscan/ and dist/userscan/ alike. */
const ADDON = "../../native/userscan/build/Release/userscan.node";

let loaded: NativeAddon | null | undefined;

/**
 * The native reader, if it was built (at `npm ci`, when a C compiler is there) and is not
 * turned off with CONGRUENT_USERSCAN_NATIVE=0; otherwise undefined and the TypeScript reader
 * runs, with the same results, slower.
 *
 * @example const addon = nativeAddon(); addon ? "native" : "typescript"
 */
export function nativeAddon(): NativeAddon | undefined {
  if (process.env.CONGRUENT_USERSCAN_NATIVE === "0") return undefined;
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)(ADDON) as NativeAddon;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** `EACCES: permission denied`: an errno as walk.ts's reason() words Node's errors. */
function errnoReason(errno: number): string {
  const known = util.getSystemErrorMap().get(-errno);
  return known ? `${known[0]}: ${known[1]}` : `errno ${errno}`;
}

/**
 * Walk, stat, check the cache, read and scan in the addon's threads; then, here, what stays
 * TypeScript: archive contents (gzip, --unzip members, via archives.ts), the references noted,
 * the walk's state for roots.ts, and the cache entries of archives.
 *
 * @example const outcome = await readNative(nativeAddon()!, ctx)
 */
export async function readNative(addon: NativeAddon, ctx: ReadContext): Promise<ReadOutcome> {
  const { settings, state, note } = ctx;
  const progress = ctx.onProgress ? new Float64Array(2) : undefined;
  const timer = progress && setInterval(() => ctx.onProgress?.({ files: progress[0] as number, bytes: progress[1] as number }), 200);
  let raw: NativeResult;
  try {
    raw = await addon.scan({
      paths: ctx.paths,
      prefix: settings.storeDir === "/" ? "/" : `${settings.storeDir}/`,
      quickcheck: settings.quickcheck,
      threads: ctx.threads + 1,
      exclude: splitGlobs(ctx.exclude),
      unzip: splitGlobs(settings.unzip),
      stat: ctx.cache !== undefined,
      ...(ctx.cache?.body ? { cache: ctx.cache.body } : {}),
      ...(progress ? { progress } : {}),
    });
  } finally {
    if (timer) clearInterval(timer);
  }

  // Records: "F"|"C" (found here | from the cache), path, uid, count, refs…
  const refs = raw.refs.split("\0");
  for (let i = 0; i + 3 < refs.length; ) {
    const trusted = refs[i] === "F";
    const file = refs[i + 1] as string;
    const uid = Number(refs[i + 2]);
    const n = Number(refs[i + 3]);
    note(file, uid, refs.slice(i + 4, i + 4 + n), trusted);
    i += 4 + n;
  }
  const unreadable = raw.unreadable.split("\0");
  for (let i = 0; i + 1 < unreadable.length; i += 2) state.unreadable.push({ path: unreadable[i] as string, error: errnoReason(Number(unreadable[i + 1])) });
  for (const d of raw.walked.split("\0")) if (d !== "") state.walked.add(d);
  for (const d of raw.skipped.split("\0")) if (d !== "") state.skipped.add(d);

  // Archives: kind, path, uid, key, size, mtimeMs, ctimeMs (the last four empty without a
  // cache), count, refs of the raw bytes…
  let bytes = raw.bytes;
  const entries: string[] = [];
  const archives = raw.archives.split("\0");
  const reader = archives.length > 1 ? makeReader(settings) : undefined;
  for (let i = 0; reader && i + 7 < archives.length; ) {
    const [kind, file, uid, key, size, mtimeMs, ctimeMs, count] = archives.slice(i, i + 8) as string[];
    const n = Number(count);
    const found: FileResult = { path: file as string, refs: archives.slice(i + 8, i + 8 + n), cached: false, bytes: 0, archive: kind as "gzip" | "zip" };
    i += 8 + n;
    const r = await finishArchive(reader, found);
    bytes += r.bytes;
    if (r.refs.length > 0) note(r.path, Number(uid), r.refs, true);
    // As the TypeScript reader: an archive read only in part is not cached, so it is tried again.
    if (r.warning !== undefined) ctx.warn(r.warning);
    else if (key) entries.push(`${JSON.stringify(key)}:${JSON.stringify([Number(size), Number(mtimeMs), Number(ctimeMs), Number(uid), r.refs])}`);
  }

  let cacheBody: Buffer | undefined;
  if (raw.cache) {
    const rest = entries.join(",");
    cacheBody = Buffer.concat([Buffer.from("{"), raw.cache, Buffer.from(raw.cache.length > 0 && rest !== "" ? `,${rest}}` : `${rest}}`)]);
  }
  return { files: raw.files, filesRead: raw.filesRead, filesCached: raw.filesCached, bytes, cacheCorrupt: raw.cacheCorrupt, ...(cacheBody ? { cacheBody } : {}) };
}
