import fs from "node:fs";
import { cacheRow, parseCacheBody, type CacheRow } from "./cache.js";
import { globMatcher } from "./glob.js";
import type { ReadContext, ReadOutcome } from "./reader.js";
import { refPattern, scanString } from "./scan.js";
import { walk } from "./walk.js";
import { createPool, type BatchResult } from "./workers.js";

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
 * The TypeScript reader: walk.ts's walk in this thread, the cache answered here in one loop of
 * stat calls (a warm rescan creates no promise and sends no message per file), the misses read
 * by this thread and worker threads (workers.ts). Used where the native addon is not built.
 *
 * @example const outcome = await readTypeScript(ctx)
 */
export async function readTypeScript(ctx: ReadContext): Promise<ReadOutcome> {
  const { settings, state, note } = ctx;
  const body = ctx.cache?.body;
  // Rows of unchanged files are carried over as parsed.
  const table = body === undefined ? undefined : parseCacheBody(body.toString("utf8"));
  const stat = ctx.cache !== undefined;
  const saved = new Map<string, CacheRow>();
  let cacheChanged = table === undefined;
  const pool = createPool(ctx.threads, settings);
  const pattern = refPattern(settings.storeDir);
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
      if (r.warning !== undefined) ctx.warn(r.warning);
      else if (stat && r.error === undefined && r.key !== undefined) saved.set(r.key, [r.size as number, r.mtimeMs as number, r.ctimeMs as number, r.uid as number, r.refs]);
    }
    ctx.onProgress?.({ files, bytes });
  };

  try {
    // The walk first (with the cache's answers), then the reading: the threads, started once
    // there is enough to read, load while this thread walks; then all take files from one list.
    const toRead: string[] = [];
    const excluded = globMatcher(ctx.exclude);
    for (const entry of walk({ paths: ctx.paths, excluded }, state)) {
      if ((++files & 1023) === 0) ctx.onProgress?.({ files, bytes });
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
  // Nothing read and nothing dropped: the cache on disk already says all this run learnt.
  const changed = stat && (cacheChanged || saved.size !== Object.keys(table ?? {}).length);
  return { files, filesRead, filesCached, bytes, cacheCorrupt: body !== undefined && table === undefined, ...(changed ? { cacheBody: JSON.stringify(Object.fromEntries(saved)) } : {}) };
}
