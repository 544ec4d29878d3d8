import fs from "node:fs";
import path from "node:path";
import { readLink } from "../../atomic.js";
import { lexists, removeTree } from "../../nar.js";
import { STORE_BASENAME_RE } from "../../name.js";

/** A temp entry younger than this may belong to an add in progress in another process. */
export const STALE_TEMP_MS = 5 * 60_000;

/**
 * Remove what an interrupted add or gc leaves behind: `.tmp-*` entries in the store older
 * than {@link STALE_TEMP_MS}, metadata (and its temp files) as old whose path is gone, and
 * store entries without metadata (never valid: metadata is written before the rename).
 * Returns what it removed.
 *
 * @example sweep("/s/store", "/s/db/info", Date.now())
 */
export function sweep(storeDir: string, infoDir: string, now: number): string[] {
  const removed: string[] = [];
  const old = (p: string) => now - fs.lstatSync(p).mtimeMs > STALE_TEMP_MS;
  for (const name of readdir(storeDir)) {
    const p = path.join(storeDir, name);
    const stray = name.startsWith(".tmp-") ? old(p) : STORE_BASENAME_RE.test(name) && !fs.existsSync(path.join(infoDir, `${name}.json`));
    if (stray) {
      removeTree(p);
      removed.push(p);
    }
  }
  for (const name of readdir(infoDir)) {
    const p = path.join(infoDir, name);
    // Metadata lands before its path is renamed in, so young metadata may be an add in flight.
    const orphan = name.endsWith(".json") ? !lexists(path.join(storeDir, name.slice(0, -5))) && old(p) : name.startsWith(".tmp-") && old(p);
    if (orphan) {
      fs.rmSync(p, { force: true });
      removed.push(p);
    }
  }
  return removed;
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Remove the indirect roots in `autoDir` whose link is gone, as Nix's gc does in gcroots/auto. */
export function sweepAutoRoots(autoDir: string): void {
  for (const name of readdir(autoDir)) {
    const p = path.join(autoDir, name);
    const link = readLink(p);
    if (link !== undefined && !lexists(path.resolve(autoDir, link))) fs.rmSync(p, { force: true });
  }
}
