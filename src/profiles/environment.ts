import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { StoreEngine } from "../store/engine.js";
import type { NarNode } from "../store/nar.js";
import { dir, symlink } from "../store/tree.js";

/**
 * The one store path a profile generation points at: the path itself when there is one,
 * else a new path merging them as Nix's buildEnv does (`bin/hello -> <hello>/bin/hello`,
 * directories both have merged, a file both have a conflict), with every path a reference,
 * so gc keeps them and `nix-store -qR` lists them.
 *
 * @example await profileEnvironment(store, [hello, jq]) // "<store>/…-profile-env"
 */
export async function profileEnvironment(store: StoreEngine, paths: readonly string[]): Promise<string> {
  if (paths.length === 1) return paths[0]!;
  for (const p of paths) {
    if (!isDir(p)) throw new CongruentError("E_PROFILE_INPUT", `${p} is not a directory: a profile of several store paths merges their directories`);
  }
  return store.addTree("profile-env", merge(paths, ""), [...paths].sort());
}

/** The union of the directories `sources` (absolute), symlinking what only one of them has. */
function merge(sources: readonly string[], rel: string): NarNode & { type: "directory" } {
  const byName = new Map<string, string[]>();
  for (const src of sources) {
    for (const name of fs.readdirSync(src).sort()) byName.set(name, [...(byName.get(name) ?? []), path.join(src, name)]);
  }
  const entries: Record<string, NarNode> = {};
  for (const [name, from] of byName) {
    if (from.length === 1) entries[name] = symlink(from[0]!);
    else if (from.every(isDir)) entries[name] = merge(from, path.join(rel, name));
    else throw new CongruentError("E_PROFILE_CONFLICT", `${from[0]} and ${from[1]} both provide ${path.join(rel, name)}`);
  }
  return dir(entries);
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
