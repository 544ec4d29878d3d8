import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * argv that runs one of this program's own modules (the CLI, the sandbox runner) in a new
 * process: the built JavaScript, or under tsx when this code runs from its TypeScript sources
 * (the tests). Paths are absolute, so they work from a chroot whose view includes this checkout.
 *
 * @example spawn(...selfModule("cli/main"), ["build", "--host", file])
 */
export function selfModule(module: "cli/main" | "migrate/verify/runner"): string[] {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith(".ts");
  const file = path.resolve(path.dirname(here), "../..", `${module}${fromSource ? ".ts" : ".js"}`);
  return fromSource ? [process.execPath, "--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href, file] : [process.execPath, file];
}
