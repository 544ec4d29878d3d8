import { readFileSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { StoreEngine } from "../store/engine.js";

/**
 * The store paths a `--paths` file names, one a line (blank lines and `#` comments skipped),
 * each already valid in `store`; a line that is not is an error naming file and line.
 *
 * @example readPathsFile("paths.txt", store) // ["/nix/store/…-hello-2.12"]
 */
export function readPathsFile(file: string, store: StoreEngine): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CongruentError("E_PROFILE_INPUT", `${file}: cannot read the store paths to install: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const paths: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const p = path.resolve(line);
    if (!store.has(p)) throw new CongruentError("E_PROFILE_INPUT", `${file}:${i + 1}: ${line} is not a valid path in the store ${store.storeDir}`);
    if (!paths.includes(p)) paths.push(p);
  });
  if (paths.length === 0) throw new CongruentError("E_PROFILE_INPUT", `${file}: no store paths (one a line)`);
  return paths;
}
