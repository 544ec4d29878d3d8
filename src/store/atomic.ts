import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

// A short temp name beside the target (a long target name plus a suffix could pass NAME_MAX),
// with the writer's PID, so a later run can tell what a killed writer left behind.
const tempBeside = (file: string) => path.join(path.dirname(file), `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);

/** Whether a process `pid` exists (EPERM: it does, someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove the `.tmp-*` entries in `dir` that a writer killed between writing and rename(2) left
 * behind: those whose writer's PID is gone (or that carry none, from older versions). Returns
 * what it removed.
 *
 * @example removeStaleTemps("/var/lib/congruent/profiles") // ["/var/lib/congruent/profiles/.tmp-4242-9f86d081884c"]
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^\.tmp-(?:(\d+)-)?[0-9a-f]{12}$/.exec(name);
    const writer = m?.[1] === undefined ? undefined : Number(m[1]);
    if (!m || (writer !== undefined && (writer === process.pid || processAlive(writer)))) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(path.join(dir, name));
  }
  return removed;
}

/** The target of a symlink, or undefined when `p` is not one (or absent). */
export function readLink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Point `link` at `target` atomically (a temp link renamed over it): a reader sees the old
 * target or the new one, never none. A no-op when it already points there; the parent
 * directory is created. Returns whether the link changed.
 *
 * @example replaceSymlink("system-3-link", "/var/lib/congruent/profiles/system")
 */
export function replaceSymlink(target: string, link: string): boolean {
  if (readLink(link) === target) return false;
  fs.mkdirSync(path.dirname(link), { recursive: true });
  const tmp = tempBeside(link);
  fs.symlinkSync(target, tmp);
  try {
    fs.renameSync(tmp, link);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  return true;
}

/**
 * Write a file atomically (temp file renamed over it): a killed writer never leaves half a
 * file under the final name. The parent directory is created.
 *
 * @example writeFileAtomic("/var/lib/congruent/activation/pending.json", JSON.stringify(plan))
 */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempBeside(file);
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (error) {
    // A full disk fails the write half-way: leave no temp file behind.
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}
