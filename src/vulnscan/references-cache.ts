import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { StoreEngine } from "../store/engine.js";

const FORMAT = "congruent-vulnscan-references";
/** 2: paths numbered, references as numbers (1 named them: twice the size, a string set to walk). */
const VERSION = 2;

interface CacheFile {
  format: string;
  version: number;
  storeDir: string;
  /** Base names, sorted (code units). */
  names: string[];
  /** names[i]'s references as indices into `names`; null: referenced, but not a valid path when read. */
  refs: (number[] | null)[];
}

/** `<cacheDir>/references-<hash of the store dir>.json`: one file per store scanned. */
export function referencesCacheFile(cacheDir: string, storeDir: string): string {
  return path.join(cacheDir, `references-${createHash("sha256").update(storeDir).digest("hex").slice(0, 16)}.json`);
}

/**
 * The roots and everything they reference, as `engine` recorded it, sorted, reading each
 * path's references from the store only once across scans: what was read is kept in `file`.
 * That is exact because a valid path's references never change — the embedded store's path
 * names hash them in (a path gone and added again has the same ones). Only the paths of this
 * closure are written back, when one was new: the file follows what is scanned. Roots the
 * store does not know are kept, without references; a missing or damaged file is a cold read.
 *
 * @example cachedClosure(engine, "/var/lib/congruent/store", ["/var/lib/congruent/store/…-system"], referencesCacheFile(dir, storeDir))
 */
export function cachedClosure(engine: StoreEngine, storeDir: string, roots: readonly string[], file: string): string[] {
  const known = load(file, storeDir);
  const names = known?.names ?? [];
  const refs = known?.refs ?? [];
  const sorted = names.length; // names[0, sorted) are sorted; paths met for the first time are appended
  const added = new Map<string, number>();
  let seen = new Uint8Array(names.length);
  const number = (base: string): number => {
    let lo = 0;
    let hi = sorted;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((names[mid] as string) < base) lo = mid + 1;
      else hi = mid;
    }
    if (lo < sorted && names[lo] === base) return lo;
    let i = added.get(base);
    if (i === undefined) {
      added.set(base, (i = names.push(base) - 1));
      refs.push(null);
      if (i >= seen.length) {
        const grown = new Uint8Array(2 * i + 1);
        grown.set(seen);
        seen = grown;
      }
    }
    return i;
  };
  const todo: number[] = [];
  const outside = new Set<string>(); // roots the store does not know
  for (const r of roots) {
    if (!engine.has(r)) {
      outside.add(r);
      continue;
    }
    const i = number(r.slice(storeDir.length + 1));
    if (!seen[i]) todo.push(i);
    seen[i] = 1;
  }
  let learnt = false;
  for (let i = todo.pop(); i !== undefined; i = todo.pop()) {
    let list = refs[i];
    if (list === null || list === undefined) {
      try {
        list = engine.references(`${storeDir}/${names[i]}`).map((p) => number(p.slice(storeDir.length + 1)));
      } catch {
        continue; // not valid (any more): nothing it references is known
      }
      refs[i] = list;
      learnt = true;
    }
    for (let k = 0; k < list.length; k++) {
      const j = list[k] as number;
      if (!seen[j]) {
        seen[j] = 1;
        todo.push(j);
      }
    }
  }
  const closure: string[] = [];
  for (let i = 0; i < names.length; i++) if (seen[i]) closure.push(names[i] as string);
  if (added.size > 0) closure.sort();
  if (learnt) save(file, storeDir, closure, names, refs);
  const paths = new Array<string>(closure.length);
  for (let k = 0; k < closure.length; k++) paths[k] = `${storeDir}/${closure[k]}`;
  return outside.size > 0 ? [...new Set([...paths, ...outside])].sort() : paths;
}

/** The file's paths and references, or undefined when it is missing, of another format or store, or damaged. */
function load(file: string, storeDir: string): { names: string[]; refs: (number[] | null)[] } | undefined {
  let c: Partial<CacheFile>;
  try {
    c = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<CacheFile>;
  } catch {
    return undefined;
  }
  const { names, refs } = c;
  if (c.format !== FORMAT || c.version !== VERSION || c.storeDir !== storeDir || !Array.isArray(names) || !Array.isArray(refs) || names.length !== refs.length) return undefined;
  // Indexed loops: this runs once per scan over every path, before the JIT has warmed up.
  const n = names.length;
  for (let i = 0; i < n; i++) {
    const name = names[i];
    const list = refs[i];
    if (typeof name !== "string" || (i > 0 && !((names[i - 1] as string) < name))) return undefined;
    if (list === null) continue;
    if (!Array.isArray(list)) return undefined;
    for (let k = 0; k < list.length; k++) {
      const j = list[k] as number;
      if (!(j >= 0 && j < n && (j | 0) === j)) return undefined;
    }
  }
  return { names, refs };
}

/**
 * Write the closure's paths (`closure`, sorted base names) with their references, renumbered.
 * Temp file and rename: a reader sees the old file or the new one. A cache that cannot be
 * written is only slower next time.
 */
function save(file: string, storeDir: string, closure: string[], names: string[], refs: (number[] | null)[]): void {
  const renumber = new Map(closure.map((b, k) => [b, k]));
  const index = new Map(names.map((b, i) => [b, i]));
  const data: CacheFile = {
    format: FORMAT,
    version: VERSION,
    storeDir,
    names: closure,
    refs: closure.map((b) => refs[index.get(b) as number]?.map((j) => renumber.get(names[j] as string) as number) ?? null),
  };
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(data));
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}
