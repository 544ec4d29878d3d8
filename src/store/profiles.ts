import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { readLink, replaceSymlink } from "./atomic.js";
import { gcrootsDir } from "./roots.js";

/** One generation of a profile: `<state>/profiles/<profile>-<number>-link -> path`. */
export interface Generation {
  number: number;
  path: string;
  /** When the generation link was made (its mtime), as `nix-env --list-generations` shows. */
  createdAt: Date;
  current: boolean;
}

/** `<state>/profiles` */
export function profilesDir(stateDir: string): string {
  return path.join(stateDir, "profiles");
}

/** `<profile>-<n>-link`, Nix's name for generation `n` of a profile. */
export function linkName(profile: string, n: number): string {
  return `${profile}-${n}-link`;
}

/**
 * Every generation of `profile`, oldest first.
 *
 * @example generations("/var/lib/congruent") // [{ number: 1, path: "/…/store/…-system-web1", current: true, … }]
 */
export function generations(stateDir: string, profile = "system"): Generation[] {
  return generationsIn(profilesDir(stateDir), profile);
}

/**
 * Every generation of the profile `<dir>/<profile>` (any profile in Nix's layout), oldest first.
 *
 * @example generationsIn("/nix/var/nix/profiles/per-user/alice", "profile")
 */
export function generationsIn(dir: string, profile: string): Generation[] {
  const pattern = new RegExp(`^${profile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d+)-link$`);
  const currentLink = readLink(path.join(dir, profile));
  const out: Generation[] = [];
  for (const name of readdir(dir)) {
    const m = pattern.exec(name);
    const link = path.join(dir, name);
    const target = m ? readLink(link) : undefined;
    if (!m || target === undefined) continue;
    out.push({
      number: Number(m[1]),
      path: path.resolve(dir, target),
      createdAt: fs.lstatSync(link).mtime,
      current: currentLink === name,
    });
  }
  return out.sort((a, b) => a.number - b.number);
}

/** The generation `<profile>` points at, if any. */
export function current(stateDir: string, profile = "system"): Generation | undefined {
  return generations(stateDir, profile).find((g) => g.current);
}

/**
 * Record `storePath` as a new generation `<profile>-<N+1>-link` (numbers only grow) without
 * switching to it; if the current generation is already `storePath`, return that instead.
 *
 * @example const g = addGeneration(state, built); setCurrent(state, g.number);
 */
export function addGeneration(stateDir: string, storePath: string, profile = "system"): Generation {
  ensureProfilesRoot(stateDir);
  const all = generations(stateDir, profile);
  const cur = all.find((g) => g.current);
  if (cur?.path === storePath) return cur;
  const number = (all.at(-1)?.number ?? 0) + 1;
  const link = path.join(profilesDir(stateDir), linkName(profile, number));
  // Absolute target, as Nix writes generation links; symlink(2) fails if a racing run won.
  fs.symlinkSync(storePath, link);
  return { number, path: storePath, createdAt: fs.lstatSync(link).mtime, current: false };
}

/**
 * The number `addGeneration` would give `storePath` now: the current generation's own when it
 * is already `storePath`, the next free one otherwise. Activation writes it into its journal
 * before it makes the link, so a kill in between leaves no link without a journal.
 */
export function nextGenerationNumber(stateDir: string, storePath: string, profile = "system"): number {
  const all = generations(stateDir, profile);
  const cur = all.find((g) => g.current);
  if (cur?.path === storePath) return cur.number;
  return (all.at(-1)?.number ?? 0) + 1;
}

/** Make `<profile>-<number>-link -> storePath` unless it exists (idempotent: a resumed activation repeats it). */
export function linkGeneration(stateDir: string, number: number, storePath: string, profile = "system"): void {
  ensureProfilesRoot(stateDir);
  const link = path.join(profilesDir(stateDir), linkName(profile, number));
  if (readLink(link) === storePath) return;
  fs.symlinkSync(storePath, link);
}

/**
 * Remove generation `number` when it points at `storePath` and is not current: a generation an
 * activation made and then reverted (it never was active, so rollback must not find it).
 */
export function dropGeneration(stateDir: string, number: number, storePath: string, profile = "system"): void {
  const gen = generations(stateDir, profile).find((g) => g.number === number);
  if (!gen || gen.current || gen.path !== storePath) return;
  fs.rmSync(path.join(profilesDir(stateDir), linkName(profile, number)), { force: true });
}

/**
 * Point `<profile>` at generation `number` atomically: a new link under a temp name, then
 * rename(2) over the old one, so readers see the old or the new generation, never neither.
 *
 * @example setCurrent("/var/lib/congruent", 3) // profiles/system -> system-3-link
 */
export function setCurrent(stateDir: string, number: number, profile = "system"): Generation {
  const gen = generations(stateDir, profile).find((g) => g.number === number);
  if (!gen) throw new CongruentError("E_NO_GENERATION", `profile ${profile} has no generation ${number}`);
  replaceSymlink(linkName(profile, number), path.join(profilesDir(stateDir), profile));
  return { ...gen, current: true };
}

/** Make `<state>/gcroots/profiles -> ../profiles` exist, so every generation is a gc root. */
export function ensureProfilesRoot(stateDir: string): void {
  fs.mkdirSync(profilesDir(stateDir), { recursive: true });
  fs.mkdirSync(gcrootsDir(stateDir), { recursive: true });
  replaceSymlink("../profiles", path.join(gcrootsDir(stateDir), "profiles"));
}


function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
