import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { readFileSync, accessSync, constants } from "node:fs";
import { derivedFromFile } from "../generation/derived-cache.js";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { ProgramIdentity } from "./component.js";


/** Find `name` on PATH (or an explicit override path); error naming the Debian package. */
export function findProgram(name: string, override: string | undefined, debianPackage: string): string {
  const candidates = override ? [override] : (process.env.PATH ?? "/usr/sbin:/usr/bin").split(":").concat(["/usr/sbin", "/usr/bin"]).map((d) => path.join(d, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next one
    }
  }
  throw new CongruentError("E_PROGRAM_MISSING", `${name} not found${override ? ` at ${override}` : " on PATH"}; install the Debian package ${debianPackage}`);
}

/**
 * The identity of an installed program: its path, version and content hash. A distribution
 * upgrade of the binary therefore changes the generation.
 *
 * @example programIdentity("/usr/sbin/nginx", ["-v"], (out) => out.match(/nginx\/(\S+)/)?.[1])
 */
export function programIdentity(file: string, versionArgs: string[], parseVersion: (output: string) => string | undefined): ProgramIdentity {
  return derivedFromFile(`program-${versionArgs.join("_").replace(/[^A-Za-z0-9_-]/g, "")}`, file, () => {
    const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
    const run = spawnSync(file, versionArgs, { encoding: "utf8" });
    const output = `${run.stdout ?? ""}${run.stderr ?? ""}`;
    // Some programs (nginx -v) print their version on stderr and still exit 0.
    return { path: file, version: parseVersion(output) ?? "unknown", sha256 };
  });
}
