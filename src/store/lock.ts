import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";

const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Hold `<state>/lock` (a file with our PID) while `fn` runs, so two runs never activate at
 * once. A lock whose PID is gone (a run that was killed) is stale and taken over.
 *
 * @example await withLock(stateDir, () => activate(...))
 */
export async function withLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, "lock");
  // Re-entrant within one process: a switch holds the lock across build and activation.
  if (held.has(file)) return fn();
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) {
        throw new CongruentError("E_LOCKED", `${file}: held by another congruent run (pid ${readPid(file) ?? "unknown"})`);
      }
      const holder = readPid(file);
      if (holder !== undefined && alive(holder)) throw new CongruentError("E_LOCKED", `${file}: held by running congruent process ${holder}`);
      unlinkSync(file); // stale: its owner died without cleaning up
    }
  }
  held.add(file);
  try {
    return await fn();
  } finally {
    held.delete(file);
    try {
      if (readPid(file) === process.pid) unlinkSync(file);
    } catch {
      // already gone
    }
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
