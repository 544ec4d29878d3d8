import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";

/** File path (relative to the service dir) → content and mode. */
export type ServiceFiles = Record<string, { content: string; mode: number }>;

/**
 * Make `dir` hold exactly `files` (plus whatever s6 adds: supervise/, event/).
 * A new service is built beside the scan dir and renamed in, so s6-svscan never sees a half
 * written one; an existing one is updated file by file (write + rename), touching only files
 * whose content or mode changed, so an unchanged install writes nothing.
 * Returns whether anything changed.
 *
 * @example await writeServiceDir(`${scan}/web`, `${state}/services/s6/tmp`, files, ["down-signal"])
 */
export async function writeServiceDir(
  dir: string,
  tmpRoot: string,
  files: ServiceFiles,
  optional: string[],
): Promise<boolean> {
  await fs.mkdir(tmpRoot, { recursive: true });
  if (!(await exists(dir))) {
    const staging = path.join(tmpRoot, `${path.basename(dir)}-${randomBytes(4).toString("hex")}`);
    for (const [file, { content, mode }] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(staging, file)), { recursive: true });
      await fs.writeFile(path.join(staging, file), content, { mode });
      await fs.chmod(path.join(staging, file), mode); // the umask must not strip the x bit
    }
    await fs.rename(staging, dir);
    return true;
  }
  let changed = false;
  for (const [file, { content, mode }] of Object.entries(files)) {
    const target = path.join(dir, file);
    if ((await readIfExists(target)) === content && ((await fs.stat(target)).mode & 0o777) === mode) continue;
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomBytes(4).toString("hex")}.tmp`;
    await fs.writeFile(temp, content, { mode });
    await fs.chmod(temp, mode);
    await fs.rename(temp, target);
    changed = true;
  }
  for (const file of optional) {
    if (files[file] === undefined && (await exists(path.join(dir, file)))) {
      await fs.rm(path.join(dir, file));
      changed = true;
    }
  }
  return changed;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

async function readIfExists(file: string): Promise<string | undefined> {
  return fs.readFile(file, "utf8").catch(() => undefined);
}
