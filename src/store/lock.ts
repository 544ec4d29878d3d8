import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
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
  const fd = openSync(file, "a+", 0o644);
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
