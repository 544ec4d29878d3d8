import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

let root: string | undefined;

/** Where scratch directories go from now on in this process: `<state>/tmp` (build sets it). */
export function useScratchRoot(dir: string): void {
  root = dir;
}

/**
 * A new scratch directory (a throwaway server's socket, a copy to validate), named with this
 * process's PID so that removeAbandonedScratch() can tell one a killed run left behind. Under
 * `<state>/tmp` once a build set it, so the next run of the same state finds it.
 *
 * @example const dir = scratchDir("redis-"); try { … } finally { rmSync(dir, { recursive: true }) }
 */
export function scratchDir(prefix: string): string {
  const base = root ?? os.tmpdir();
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, `${prefix}${process.pid}-`));
}

/** Remove scratch directories under `dir` whose creator (the PID in the name) is gone. */
export function removeAbandonedScratch(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = Number(/-(\d+)-[A-Za-z0-9]{6}$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
