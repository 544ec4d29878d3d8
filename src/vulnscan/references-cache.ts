import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { StoreEngine } from "../store/engine.js";

const FORMAT = "congruent-vulnscan-references";
const VERSION = 1;

interface CacheFile {
  format: string;
  version: number;
  storeDir: string;
  /** base name → base names it references */
  refs: Record<string, string[]>;
}

/** `<cacheDir>/references-<hash of the store dir>.json`: one file per store scanned. */
export function referencesCacheFile(cacheDir: string, storeDir: string): string {
  return path.join(cacheDir, `references-${createHash("sha256").update(storeDir).digest("hex").slice(0, 16)}.json`);
}

/**
 * The roots and everything they reference, as `engine` recorded it, reading each path's
 * references from the store only once across scans: what was read is kept in `file`. That is
 * exact because a valid path's references never change — the embedded store's path names
 * hash them in (a path gone and added again has the same ones). Only the paths of this
 * closure are written back, when one was new: the file follows what is scanned. Roots the
 * store does not know are kept, without references; a missing or damaged file is a cold read.
 *
 * @example cachedClosure(engine, "/var/lib/congruent/store", ["/var/lib/congruent/store/…-system"], referencesCacheFile(dir, storeDir))
 */
export function cachedClosure(engine: StoreEngine, storeDir: string, roots: readonly string[], file: string): Set<string> {
  const known = load(file, storeDir);
  const base = (p: string) => p.slice(storeDir.length + 1);
  const full = (b: string) => `${storeDir}/${b}`;
  const seen = new Set<string>(roots);
  const refsOf: Record<string, string[]> = {};
  let added = false;
  const todo = roots.filter((r) => engine.has(r));
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    const b = base(p);
    let refs = known?.[b];
    if (!Array.isArray(refs)) {
      try {
        refs = engine.references(p).map(base);
      } catch {
        continue; // not valid (any more): nothing it references is known
      }
      added = true;
    }
    refsOf[b] = refs;
    for (const r of refs) {
      const q = full(r);
      if (!seen.has(q)) {
        seen.add(q);
        todo.push(q);
      }
    }
  }
  if (added) save(file, { format: FORMAT, version: VERSION, storeDir, refs: refsOf });
  return seen;
}

function load(file: string, storeDir: string): Record<string, string[]> | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<CacheFile>;
    if (c.format !== FORMAT || c.version !== VERSION || c.storeDir !== storeDir || typeof c.refs !== "object" || c.refs === null) return undefined;
    return c.refs;
  } catch {
    return undefined;
  }
}

/** Temp file and rename: a reader sees the old file or the new one. A cache that cannot be written is only slower next time. */
function save(file: string, data: CacheFile): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(data));
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}
