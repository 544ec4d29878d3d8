import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { tryLock } from "fs-native-extensions";
import { processAlive } from "../store/atomic.js";

let root: string | undefined;

/**
 * The lock file in each scratch directory this process made, and its descriptor. The PID in a
 * directory's name cannot tell who is alive across PID namespaces (migrate verify builds in one
 * of its own, beside other builds sharing /tmp): the kernel's lock on this file can, it ends
 * with the process however it ends.
 */
const LOCK = ".owner.lock";
const owned = new Map<string, number>();

/** Where scratch directories go from now on in this process: `<state>/tmp` (build sets it). */
export function useScratchRoot(dir: string): void {
  root = dir;
}

/**
 * A new scratch directory (a throwaway server's socket, a copy to validate), named with this
 * process's PID so that removeAbandonedScratch() can tell one a killed run left behind. Under
 * `<state>/tmp` once a build set it, so the next run of the same state finds it.
 *
 * @example const dir = scratchDir("check-"); try { … } finally { rmSync(dir, { recursive: true }) }
 */
export function scratchDir(prefix: string, base = root ?? os.tmpdir()): string {
  mkdirSync(base, { recursive: true });
  // Descriptors of scratch directories removed since (callers remove them) are let go here.
  for (const [dir, fd] of owned) {
    if (!existsSync(dir)) {
      closeSync(fd);
      owned.delete(dir);
    }
  }
  const dir = mkdtempSync(path.join(base, `${prefix}${process.pid}-`));
  const fd = openSync(path.join(dir, LOCK), "w", 0o644);
  tryLock(fd);
  owned.set(dir, fd);
  return dir;
}

/**
 * A scratch directory another user (a server that refuses root) can reach, whatever the state
 * directory's mode: in the system's temp directory, under a name of ours (`congruent-…`).
 */
export function sharedScratchDir(prefix: string): string {
  return scratchDir(`congruent-${prefix}`, os.tmpdir());
}

/** Remove scratch directories whose creator (the PID in the name) is gone: under `<state>/tmp`, and ours in the system's temp directory. */
export function removeAllAbandonedScratch(stateTmp: string): void {
  removeAbandonedScratch(stateTmp);
  removeAbandonedScratch(os.tmpdir(), "congruent-");
}

/**
 * Remove scratch directories under `dir` (named `prefix…`) whose creator is gone: its lock on
 * the directory's lock file is free, or, for a directory without one, the PID in its name is gone.
 */
export function removeAbandonedScratch(dir: string, prefix = ""): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/-(\d+)-[A-Za-z0-9]{6}$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || owned.has(path.join(dir, name)) || !abandoned(path.join(dir, name), pid)) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function abandoned(scratch: string, pid: number): boolean {
  let fd: number;
  try {
    fd = openSync(path.join(scratch, LOCK), "r+");
  } catch {
    return pid !== process.pid && !processAlive(pid);
  }
  try {
    return tryLock(fd);
  } finally {
    closeSync(fd);
  }
}
