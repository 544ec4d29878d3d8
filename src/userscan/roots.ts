import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { readLink, replaceSymlink } from "../store/atomic.js";
import { HASH_LENGTH } from "./scan.js";
import type { WalkState } from "./walk.js";

/**
 * A user name per uid, the way getpwuid(3) answers: /etc/passwd first, then `id -nu` (which
 * asks NSS: LDAP, sssd), else the number itself so a root is never lost for want of a name.
 *
 * @example userName(0) // "root"
 */
export function userNameResolver(passwd = "/etc/passwd"): (uid: number) => string {
  const names = new Map<number, string>();
  try {
    for (const line of fs.readFileSync(passwd, "utf8").split("\n")) {
      const [name, , uid] = line.split(":");
      const n = Number(uid);
      if (name && uid !== undefined && uid !== "" && Number.isInteger(n) && !names.has(n)) names.set(n, name);
    }
  } catch {
    // No passwd file: `id` below.
  }
  return (uid) => {
    let name = names.get(uid);
    if (name === undefined) {
      try {
        name = execFileSync("id", ["-nu", String(uid)], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim() || String(uid);
      } catch {
        name = String(uid);
      }
      names.set(uid, name);
    }
    return name;
  };
}

/** Nix's layout: `<gcroots>/per-user/<user>/<absolute dir of the file>/<hash>`. */
export function rootLink(gcrootsDir: string, user: string, file: string, hash: string): string {
  return path.join(gcrootsDir, "per-user", user, path.dirname(file), hash);
}

export interface RootChanges {
  added: string[];
  removed: string[];
}

/**
 * Make the links under `<gcroots>/per-user/` match `desired` (link → store path) for the trees
 * this run scanned, without a moment in which a still-referenced path is unrooted: every new
 * or changed link is written first (temp link + rename, atomic), and only then are stale links
 * removed. A link is stale when it sits in the mirror of a directory this run read completely
 * and is not desired any more, or mirrors a directory that is gone. Mirrors of directories the
 * run did not look into (excluded, other filesystem, unreadable) and of directories holding
 * an unreadable file are left alone: not knowing is no reason to unroot. Only links named like
 * a store hash and pointing into the store are ever removed.
 *
 * @example applyRoots("/nix/var/nix/gcroots", "/nix/store", desired, ["/home"], walkState)
 */
export function applyRoots(gcrootsDir: string, storeDir: string, desired: Map<string, string>, scanned: readonly string[], state: WalkState): RootChanges {
  const added: string[] = [];
  for (const [link, target] of [...desired].sort((a, b) => a[0].localeCompare(b[0]))) {
    try {
      if (!replaceSymlink(target, link)) continue;
    } catch (error) {
      throw new CongruentError("E_STORE_IO", `cannot create GC root ${link}: ${(error as Error).message}`);
    }
    added.push(link);
  }

  const removed: string[] = [];
  const keep = new Set(state.skipped);
  for (const u of state.unreadable) keep.add(u.path);
  const incomplete = new Set(state.unreadable.map((u) => path.dirname(u.path)));
  const isOurs = (link: string) => {
    if (!isHashName(path.basename(link))) return false;
    const target = readLink(link);
    return target !== undefined && target.startsWith(storeDir + "/");
  };
  const unlink = (link: string) => {
    fs.rmSync(link, { force: true });
    removed.push(link);
  };
  const pruneAll = (mirror: string) => {
    for (const e of readdir(mirror)) {
      const m = path.join(mirror, e.name);
      if (e.isDirectory()) pruneAll(m);
      else if (e.isSymbolicLink() && isOurs(m)) unlink(m);
    }
    rmdirIfEmpty(mirror);
  };
  const prune = (mirror: string, real: string) => {
    const complete = state.walked.has(real) && !incomplete.has(real);
    for (const e of readdir(mirror)) {
      const m = path.join(mirror, e.name);
      const r = path.join(real, e.name);
      if (e.isSymbolicLink()) {
        if (complete && !desired.has(m) && isOurs(m)) unlink(m);
      } else if (e.isDirectory()) {
        if (state.walked.has(r)) prune(m, r);
        else if (complete && !keep.has(r)) pruneAll(m);
      }
    }
    rmdirIfEmpty(mirror);
  };
  const perUser = path.join(gcrootsDir, "per-user");
  for (const user of readdir(perUser)) {
    if (!user.isDirectory()) continue;
    for (const start of scanned) {
      if (state.walked.has(start)) prune(path.join(perUser, user.name, start), start);
    }
  }
  return { added, removed: removed.sort() };
}

function isHashName(name: string): boolean {
  return name.length === HASH_LENGTH && /^[0-9a-df-np-sv-z]+$/.test(name);
}


function readdir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function rmdirIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty, or gone: either is fine.
  }
}
