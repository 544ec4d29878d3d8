import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { invoker, type Account } from "./account.js";
import { BUILD_LINK, removeBuildLinks } from "./profile.js";

/**
 * `nix-build FILE --out-link <dir>/.profile-build-link`, run as `account` (root never evaluates or
 * builds a user's expression with its own rights: as another user, Nix goes through its
 * daemon). Nix's own settings apply (store, substituters); its progress goes to `log`. The
 * result must be one store path: a profile generation is one.
 *
 * @example const out = await nixBuild("/home/alice/app/default.nix", alice, dir, (l) => process.stderr.write(l))
 */
export async function nixBuild(file: string, account: Account, dir: string, log: (text: string) => void): Promise<string> {
  const source = path.resolve(file);
  if (!fs.existsSync(source)) throw new CongruentError("E_PROFILE_INPUT", `${source}: no such file`);
  const outLink = path.join(dir, BUILD_LINK);
  removeBuildLinks(dir);
  const asOther = invoker().uid === 0 && account.uid !== 0;
  const child = spawn("nix-build", [source, "--out-link", outLink], {
    cwd: fs.statSync(source).isDirectory() ? source : path.dirname(source),
    env: { ...process.env, HOME: account.home, USER: account.name, LOGNAME: account.name },
    stdio: ["ignore", "pipe", "pipe"],
    ...(asOther ? { uid: account.uid, gid: account.gid } : {}),
  });
  let stdout = "";
  let tail = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d: Buffer) => {
    log(d.toString());
    tail = (tail + d.toString()).slice(-4096);
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", (error) => reject(new CongruentError((error as NodeJS.ErrnoException).code === "ENOENT" ? "E_PROGRAM_MISSING" : "E_PROFILE_BUILD", `cannot run nix-build: ${error.message}`)));
    child.on("close", (c) => resolve(c ?? 1));
  });
  const outputs = stdout.split("\n").filter(Boolean);
  if (code !== 0 || outputs.length !== 1) removeBuildLinks(dir);
  if (code !== 0) {
    const why = tail.trim().split("\n").filter((l) => l.startsWith("error:")).pop() ?? tail.trim().split("\n").pop() ?? "";
    throw new CongruentError("E_PROFILE_BUILD", `nix-build ${source} as ${account.name} failed (exit ${code})${why ? `: ${why}` : ""}`);
  }
  if (outputs.length !== 1) throw new CongruentError("E_PROFILE_BUILD", `${source} builds ${outputs.length} store paths; a profile generation is one (make it return one derivation, e.g. a buildEnv of them)`);
  return outputs[0]!;
}
