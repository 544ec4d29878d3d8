import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { replaceSymlink } from "./atomic.js";
import { lexists } from "./nar.js";
import { parseStorePath } from "./name.js";

/** Symlink hops followed from one root before giving up (Linux's own limit is 40). */
const MAX_HOPS = 40;

/** `<state>/gcroots` */
export function gcrootsDir(stateDir: string): string {
  return path.join(stateDir, "gcroots");
}

/**
 * Every store path a root reaches: symlinks under `<state>/gcroots/`, searched recursively.
 * A link into a store path roots the whole path (a link to `<hash>-x/bin/sh` roots
 * `<hash>-x`); a link to a directory outside the store (`gcroots/profiles -> ../profiles`)
 * is searched too, so every profile generation is a root; `<state>/profiles` is searched
 * even without that link, as Nix does. Dangling links root nothing.
 *
 * @example findRoots("/var/lib/congruent", "/var/lib/congruent/store") // ["/var/lib/congruent/store/…-system-web1"]
 */
export function findRoots(stateDir: string, storeDir: string): string[] {
  const roots = new Set<string>();
  const visited = new Set<string>();
  const walk = (dir: string) => {
    const real = safe(() => fs.realpathSync(dir));
    if (real === undefined || visited.has(real)) return;
    visited.add(real);
    for (const name of safe(() => fs.readdirSync(dir)) ?? []) {
      const p = path.join(dir, name);
      const st = safe(() => fs.lstatSync(p));
      if (st?.isDirectory()) walk(p);
      else if (st?.isSymbolicLink()) follow(p);
    }
  };
  const follow = (link: string) => {
    let target = link;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const next = safe(() => fs.readlinkSync(target));
      if (next === undefined) return;
      target = path.resolve(path.dirname(target), next);
      const inStore = storePathOf(target, storeDir);
      if (inStore !== undefined) {
        if (lexists(inStore)) roots.add(inStore);
        return;
      }
      const st = safe(() => fs.lstatSync(target));
      if (st?.isDirectory()) return walk(target);
      if (!st?.isSymbolicLink()) return;
    }
  };
  walk(gcrootsDir(stateDir));
  // Nix also searches its profiles directly, so a lost gcroots/profiles link never lets gc
  // take the running generation.
  walk(path.join(stateDir, "profiles"));
  return [...roots].sort();
}

/** The top-level store path containing `p`, if `p` is inside `storeDir`. */
function storePathOf(p: string, storeDir: string): string | undefined {
  if (!p.startsWith(storeDir + "/")) return undefined;
  const top = path.join(storeDir, p.slice(storeDir.length + 1).split("/")[0] as string);
  return parseStorePath(top, storeDir) ? top : undefined;
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/**
 * Register `storePath` as a root at `<state>/gcroots/<name>`, replacing any root of that
 * name atomically (temp link + rename), so there is never a moment without one.
 *
 * @example addRoot("/var/lib/congruent", "userscan/home-alice", "/var/lib/congruent/store/…-x")
 */
export function addRoot(stateDir: string, name: string, storePath: string): string {
  const root = gcrootsDir(stateDir);
  const link = path.resolve(root, name);
  if (!link.startsWith(root + path.sep) || name.split("/").includes("..")) {
    throw new CongruentError("E_USAGE", `root name "${name}" must stay inside ${root}`);
  }
  replaceSymlink(storePath, link);
  return link;
}
