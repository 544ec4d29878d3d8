import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../../../errors.js";

/** What the embedded engine records about a valid path, as Nix's ValidPaths/Refs tables do. */
export interface PathInfo {
  path: string;
  /** `sha256:<nix base32>`, the spelling `nix path-info --json` uses. */
  narHash: string;
  narSize: number;
  references: string[];
  /** Seconds since the epoch, like Nix's registrationTime. */
  registrationTime: number;
}

/** `<state>/db/info/<basename>.json` */
export function infoFile(infoDir: string, storePath: string): string {
  return path.join(infoDir, `${path.basename(storePath)}.json`);
}

/**
 * Write the info atomically (temp file + rename), so a reader sees all of it or nothing.
 *
 * @example writeInfo("/var/lib/congruent/db/info", info)
 */
export function writeInfo(infoDir: string, info: PathInfo): void {
  fs.mkdirSync(infoDir, { recursive: true });
  const final = infoFile(infoDir, info.path);
  // Not `${final}.tmp`: with a 211-char name that would pass NAME_MAX (255).
  const tmp = path.join(infoDir, `.tmp-${randomBytes(6).toString("hex")}`);
  try {
    fs.writeFileSync(tmp, JSON.stringify(info) + "\n");
    fs.renameSync(tmp, final);
  } catch (error) {
    // A full disk fails the write half-way: leave no temp file behind.
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

/** The recorded info, or undefined when the path was never registered. */
export function readInfo(infoDir: string, storePath: string): PathInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(infoFile(infoDir, storePath), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CongruentError("E_STORE_IO", `cannot read metadata of ${storePath}: ${(e as Error).message}`);
  }
  return JSON.parse(text) as PathInfo;
}
