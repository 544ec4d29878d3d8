import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { replaceSymlink } from "../store/atomic.js";
import type { StoreEngine } from "../store/engine.js";
import { withLock } from "../store/lock.js";
import { generationsIn, linkName, type Generation } from "../store/profiles.js";
import { invoker, type Account } from "./account.js";

/** Nix's name for a user's profile inside `<profiles>/per-user/<user>/`. */
export const PROFILE = "profile";

/** Where a build leaves its result while the profile's lock is held: a gc root meanwhile. */
export const BUILD_LINK = ".profile-build-link";

/** A user's profile: `<profiles>/per-user/<user>/profile -> profile-N-link -> store path`. */
export interface UserProfile {
  account: Account;
  /** `<profiles>/per-user/<user>`, owned by the user. */
  dir: string;
  /** `<dir>/profile`. */
  link: string;
}

export interface SwitchResult {
  user: string;
  profile: string;
  generation: number;
  path: string;
  previous: number | null;
  result: "switched" | "unchanged";
}

/** The profile of `account` under `profilesDir`, in Nix's layout. */
export function userProfile(profilesDir: string, account: Account): UserProfile {
  const dir = path.join(path.resolve(profilesDir), "per-user", account.name);
  return { account, dir, link: path.join(dir, PROFILE) };
}

export function listGenerations(p: UserProfile): Generation[] {
  return generationsIn(p.dir, PROFILE);
}

/** Create the profile's directory, owned by its user (as Nix's daemon makes it), if needed. */
export function ensureProfileDir(p: UserProfile): void {
  if (fs.existsSync(p.dir)) return;
  try {
    fs.mkdirSync(p.dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new CongruentError("E_STORE_IO", `cannot create ${p.dir}: ${(error as NodeJS.ErrnoException).code ?? error} (root makes a user's profile directory on its first switch)`);
  }
  own(p, p.dir);
}

/**
 * Make `storePath` the profile's new current generation: `profile-<N+1>-link` (a gc root
 * through the engine wherever the profiles are), then `profile` flipped to it atomically. A
 * store path that is already current is no new generation. `prepare` runs under the profile's
 * lock first, to produce the path (a build).
 *
 * @example await switchProfile(p, store, async () => "/nix/store/…-hello-1.0")
 */
export async function switchProfile(p: UserProfile, store: StoreEngine, prepare: () => Promise<string>): Promise<SwitchResult> {
  ensureProfileDir(p);
  return withLock(p.dir, async () => {
    const storePath = await prepare();
    const all = listGenerations(p);
    const cur = all.find((g) => g.current) ?? null;
    const base = { user: p.account.name, profile: p.link, path: storePath, previous: cur?.number ?? null };
    if (cur?.path === storePath) {
      removeBuildLinks(p.dir);
      return { ...base, generation: cur.number, result: "unchanged" };
    }
    const number = (all.at(-1)?.number ?? 0) + 1;
    const link = path.join(p.dir, linkName(PROFILE, number));
    // Rooted before the profile points at it: no moment in which gc could take the path.
    await store.linkRoot(link, storePath);
    own(p, link);
    flip(p, number);
    removeBuildLinks(p.dir);
    return { ...base, generation: number, result: "switched" };
  });
}

/** The build links of this run, or of one killed before it finished (extra outputs end in -2, -3…). */
export function removeBuildLinks(dir: string): void {
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (name.startsWith(BUILD_LINK)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** Point the profile at the generation before the current one (Nix's `--rollback`). */
export async function rollbackProfile(p: UserProfile): Promise<{ user: string; profile: string; generation: number; path: string; previous: number }> {
  requireProfile(p);
  return withLock(p.dir, async () => {
    const all = listGenerations(p);
    const cur = all.find((g) => g.current);
    if (!cur) throw new CongruentError("E_NO_GENERATION", `${p.link}: ${p.account.name} has no profile to roll back`);
    const before = all.filter((g) => g.number < cur.number).pop();
    if (!before) throw new CongruentError("E_NO_GENERATION", `${p.link}: generation ${cur.number} is the oldest; nothing to roll back to`);
    flip(p, before.number);
    return { user: p.account.name, profile: p.link, generation: before.number, path: before.path, previous: cur.number };
  });
}

/** Delete generation `number` (never the current one); gc may then take its path. */
export async function removeGeneration(p: UserProfile, number: number): Promise<{ user: string; profile: string; removed: number; path: string }> {
  requireProfile(p);
  return withLock(p.dir, async () => {
    const gen = listGenerations(p).find((g) => g.number === number);
    if (!gen) throw new CongruentError("E_NO_GENERATION", `${p.link}: no generation ${number}`);
    if (gen.current) throw new CongruentError("E_PROFILE_CURRENT", `${p.link}: generation ${number} is the current one; switch or roll back first`);
    fs.rmSync(path.join(p.dir, linkName(PROFILE, number)));
    return { user: p.account.name, profile: p.link, removed: number, path: gen.path };
  });
}

/** Before taking the lock, which would create the directory. */
function requireProfile(p: UserProfile): void {
  if (!fs.existsSync(p.dir)) throw new CongruentError("E_NO_GENERATION", `${p.link}: ${p.account.name} has no profile`);
}

function flip(p: UserProfile, number: number): void {
  replaceSymlink(linkName(PROFILE, number), p.link);
  own(p, p.link);
}

/** What root makes in a user's profile belongs to that user, as if they had made it. */
function own(p: UserProfile, file: string): void {
  if (invoker().uid === 0) fs.lchownSync(file, p.account.uid, p.account.gid);
}
