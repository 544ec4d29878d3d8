import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { readLink, replaceSymlink } from "./atomic.js";
import type { StoreEngine } from "./engine.js";
import { profilesDir } from "./profiles.js";

/**
 * Make `<state>/profiles` the engine's profiles directory, so every reader of the system
 * profile (switch, rollback, generations, status, the agent) finds its generations there.
 * The embedded engine keeps them in `<state>/profiles` itself; the nix engine in Nix's
 * (`/nix/var/nix/profiles`), `<state>/profiles` being a link to it, so the system profile
 * `/nix/var/nix/profiles/system` is a real Nix profile whose generations Nix's gc keeps.
 * A state directory stays with one engine: its generations live in one place.
 *
 * @example bindProfiles("/var/lib/congruent", openStore({ stateDir, engine: "nix" }))
 */
export function bindProfiles(stateDir: string, store: StoreEngine): void {
  const link = profilesDir(path.resolve(stateDir));
  const target = path.resolve(store.profilesDir);
  const bound = readLink(link);
  if (target === link) {
    if (bound !== undefined) throw wrongEngine(stateDir, `its generations are in ${bound} (the nix engine's profiles): use --store nix or CONGRUENT_STORE=nix`);
    return;
  }
  if (bound === target) return;
  if (bound !== undefined) throw wrongEngine(stateDir, `${link} points at ${bound}, not at the profiles of this Nix store (${target})`);
  if (entries(link).length > 0) throw wrongEngine(stateDir, `${link} holds the embedded engine's generations: use --store embedded, or a new state directory for the nix engine`);
  fs.mkdirSync(target, { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  replaceSymlink(target, link);
}

function wrongEngine(stateDir: string, why: string): CongruentError {
  return new CongruentError("E_STORE_ENGINE", `state directory ${stateDir} belongs to another store engine: ${why}`);
}

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
