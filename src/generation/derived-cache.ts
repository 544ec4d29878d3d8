import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

// Facts derived from an installed file (a binary's hash and version, a server's parameter
// catalogue) cost a spawn or a hash of megabytes each; a build that finds nothing new must stay
// cheap, so they are kept per process and, once the build names a state directory, on disk in
// `<state>/cache/`, keyed by the file's path and stat (a package upgrade changes the stat).
const memo = new Map<string, unknown>();
let cacheDir: string | undefined;

/** Where derived facts persist between runs (the build sets `<state>/cache`). */
export function useCacheDir(dir: string): void {
  cacheDir = dir;
}

/**
 * `compute()` once per (kind, file, stat of file); later calls and later runs read the result.
 *
 * @example derivedFromFile("pg-catalogue", "/usr/lib/postgresql/15/bin/postgres", () => describe())
 */
export function derivedFromFile<T>(kind: string, file: string, compute: () => T): T {
  const { key, stored, found } = lookup<T>(kind, file);
  if (found) return found.value;
  const value = compute();
  keep(key, stored, value);
  return value;
}

/** derivedFromFile for facts that take asynchronous work (e.g. asking a throwaway server). */
export async function derivedFromFileAsync<T>(kind: string, file: string, compute: () => Promise<T>): Promise<T> {
  const { key, stored, found } = lookup<T>(kind, file);
  if (found) return found.value;
  const value = await compute();
  keep(key, stored, value);
  return value;
}

/**
 * derivedFromFileAsync for facts that are a pure function of some text (e.g. what a server
 * makes of a configuration file, for a binary named by its hash inside `source`).
 */
export async function derivedFromTextAsync<T>(kind: string, source: string, compute: () => Promise<T>): Promise<T> {
  const { key, stored, found } = lookupKey<T>(kind, source);
  if (found) return found.value;
  const value = await compute();
  keep(key, stored, value);
  return value;
}

function lookup<T>(kind: string, file: string): { key: string; stored?: string; found?: { value: T } } {
  const st = statSync(file);
  return lookupKey<T>(kind, `${path.resolve(file)}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`);
}

function lookupKey<T>(kind: string, source: string): { key: string; stored?: string; found?: { value: T } } {
  const key = createHash("sha256").update(`${kind}\0${source}`).digest("hex").slice(0, 32);
  if (memo.has(key)) return { key, found: { value: memo.get(key) as T } };
  const stored = cacheDir ? path.join(cacheDir, `${kind}-${key}.json`) : undefined;
  if (stored) {
    try {
      const value = JSON.parse(readFileSync(stored, "utf8")) as T;
      memo.set(key, value);
      return { key, stored, found: { value } };
    } catch {
      // absent or unreadable: compute it again
    }
  }
  return { key, stored };
}

function keep(key: string, stored: string | undefined, value: unknown): void {
  memo.set(key, value);
  if (stored) {
    try {
      // Never made here (the build makes it): a throwaway build's state (migrate plan's) is
      // removed after it, and a later fact must not bring it back as a leftover.
      if (!existsSync(cacheDir!)) return;
      // Unique temp name then rename: a concurrent reader never sees half a file.
      const tmp = `${stored}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(value));
      renameSync(tmp, stored);
    } catch {
      // a read-only state directory costs speed, never correctness
    }
  }
}
