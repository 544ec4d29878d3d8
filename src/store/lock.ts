import { closeSync, fchownSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import { tryLock } from "fs-native-extensions";
import { CongruentError } from "../errors.js";

const held = new Set<string>();

/**
 * Hold `<state>/lock` while `fn` runs, so two runs never activate at once. The lock is the
 * kernel's (an open-file-description lock on the file, fcntl F_OFD_SETLK), not the file's
 * existence: it ends with the process that holds it, however that process ends, so a killed
 * run cannot keep it, a PID written in the file proves nothing (a reused PID cannot fake it),
 * and of two runs starting at once exactly one gets it. The file stays; it holds the holder's
 * PID only for the message of the run that is refused.
 *
 * @example await withLock(stateDir, () => activate(...))
 */
export async function withLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, "lock");
  // Re-entrant within one process: a switch holds the lock across build and activation.
  if (held.has(file)) return fn();
  // O_CLOEXEC (node's default): a supervisor started meanwhile does not inherit the lock.
  const fd = openLockFile(file, stateDir);
  if (!tryLock(fd)) {
    closeSync(fd);
    const holder = readFileSync(file, "utf8").trim();
    throw new CongruentError("E_LOCKED", `${file}: held by running congruent process ${holder || "(unknown pid)"}`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  held.add(file);
  try {
    return await fn();
  } finally {
    held.delete(file);
    // Closing the only descriptor releases the lock; the file stays (unlinking it would let a
    // waiting run lock a file no one else sees).
    closeSync(fd);
  }
}

/**
 * Open (creating) the lock file for writing: the kernel grants an exclusive lock only on a
 * writable descriptor. The file stays for good, so one root makes in a directory another user
 * owns (a user's profile) is given to that user, who must lock it too.
 */
function openLockFile(file: string, dir: string): number {
  let fd: number;
  try {
    fd = openSync(file, "a+", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EACCES") throw error;
    throw new CongruentError("E_LOCKED", `${file}: not writable by this user, so it cannot be locked (made by another user? its owner or root can remove it)`);
  }
  const owner = statSync(dir);
  const stat = fstatSync(fd);
  if (process.getuid?.() === 0 && stat.uid !== owner.uid) fchownSync(fd, owner.uid, owner.gid);
  return fd;
}
