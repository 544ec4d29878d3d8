import fs from "node:fs";
import { narDigest, readTree } from "../../nar.js";
import { nixBase32Encode } from "../../nix-base32.js";
import type { EmbeddedStore } from "./index.js";

export interface VerifyProblem {
  path: string;
  problem: string;
}

/**
 * Check every valid path like `nix-store --verify --check-contents`: its contents still hash
 * to the recorded narHash, it is still read-only, and its references are still valid.
 *
 * @example verifyStore(store) // [] when all is well
 */
export function verifyStore(store: EmbeddedStore): { checked: string[]; problems: VerifyProblem[] } {
  const checked = store.list();
  const problems: VerifyProblem[] = [];
  for (const p of checked) {
    const info = store.info(p);
    const { hash, size } = narDigest(readTree(p));
    const actual = `sha256:${nixBase32Encode(hash)}`;
    if (actual !== info.narHash || size !== info.narSize) {
      problems.push({ path: p, problem: `contents changed: narHash ${actual}, recorded ${info.narHash}` });
    }
    if (writable(p)) problems.push({ path: p, problem: "writable (store paths must be read-only)" });
    for (const ref of info.references) {
      if (!store.has(ref)) problems.push({ path: p, problem: `reference ${ref} is missing` });
    }
  }
  return { checked, problems };
}

function writable(p: string): boolean {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return false;
  if ((st.mode & 0o222) !== 0) return true;
  return st.isDirectory() && fs.readdirSync(p).some((n) => writable(`${p}/${n}`));
}
