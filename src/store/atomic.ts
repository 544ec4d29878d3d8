import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

// A short temp name beside the target: a long target name plus a suffix could pass NAME_MAX.
const tempBeside = (file: string) => path.join(path.dirname(file), `.tmp-${randomBytes(6).toString("hex")}`);

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
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}
