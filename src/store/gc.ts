import path from "node:path";
import { EmbeddedStore } from "./engines/embedded/index.js";
import { findRoots } from "./roots.js";

/**
 * Delete every store path of the state's embedded store that no root under
 * `<state>/gcroots/` reaches (through recorded references, and through the profile links),
 * then sweep what interrupted adds left behind. With `dryRun`, only say what would go.
 *
 * @example const { deleted } = await collectGarbage("/var/lib/congruent");
 */
export async function collectGarbage(stateDir: string, opts: { dryRun?: boolean } = {}): Promise<{ deleted: string[]; kept: string[] }> {
  const store = new EmbeddedStore({ stateDir });
  if (!opts.dryRun) return store.gc([]);
  const roots = findRoots(path.resolve(stateDir), store.storeDir);
  const live = store.closure(roots.filter((r) => store.has(r)));
  const all = store.list();
  return { deleted: all.filter((p) => !live.has(p)), kept: all.filter((p) => live.has(p)) };
}
