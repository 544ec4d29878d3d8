import os from "node:os";
import path from "node:path";

// Apart from the index itself, so a caller that only asks where it is (the agent, every run)
// does not load the SQLite binding.

/**
 * Where the index and downloads live: `--cache-dir`, else `$CONGRUENT_VULNSCAN_CACHE`,
 * else `$XDG_CACHE_HOME/congruent/vulnscan`, else `~/.cache/congruent/vulnscan`.
 *
 * @example defaultCacheDir() // "/root/.cache/congruent/vulnscan"
 */
export function cacheDir(explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  if (process.env.CONGRUENT_VULNSCAN_CACHE) return path.resolve(process.env.CONGRUENT_VULNSCAN_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "congruent", "vulnscan");
}

/** `<cache>/index.sqlite` */
export function indexFile(dir: string): string {
  return path.join(dir, "index.sqlite");
}
