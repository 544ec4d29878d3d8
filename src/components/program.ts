import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, accessSync, constants } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { ProgramIdentity } from "./component.js";

// Hashing a binary and asking its version costs a few ms each; a switch that finds nothing
// changed must stay cheap, so identities are memoised per process by the file's stat.
const memo = new Map<string, { stamp: string; identity: ProgramIdentity }>();

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
  const st = statSync(file);
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const hit = memo.get(file);
  if (hit?.stamp === stamp) return hit.identity;
  const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
  const run = spawnSync(file, versionArgs, { encoding: "utf8" });
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}`;
  // Some programs (nginx -v) print their version on stderr and still exit 0.
  const version = parseVersion(output) ?? "unknown";
  const identity = { path: file, version, sha256 };
  memo.set(file, { stamp, identity });
  return identity;
}
