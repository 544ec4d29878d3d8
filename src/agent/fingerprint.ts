import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { readComponent, readSystem } from "../generation/metadata.js";

function stamp(file: string): string {
  try {
    const st = statSync(file);
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return "absent";
  }
}

/**
 * A cheap fingerprint of every input a build reads besides the description: the files of
 * the integration points, the files they include (as the active generation recorded them),
 * the programs the active generation runs, Congruent itself and its CONGRUENT_* environment.
 * Stat only, no reading: an unchanged host costs the agent a 304 and these stats, no build.
 * A change it misses cannot happen without one of these stats changing.
 *
 * @example fingerprint(stateDir, "/etc/local", activeGeneration)
 */
export function fingerprint(localRoot: string, active: string | null): string {
  const h = createHash("sha256");
  h.update(`congruent ${stamp(process.argv[1] ?? "")}\n`);
  // Settings by environment (e.g. CONGRUENT_NGINX, a program override) change what a build makes.
  for (const key of Object.keys(process.env).sort()) {
    if (key.startsWith("CONGRUENT_") && key !== "CONGRUENT_TOKEN") h.update(`env ${key}=${process.env[key]}\n`);
  }
  let components: string[] = [];
  try {
    components = readdirSync(localRoot).sort();
  } catch {
    // no integration points at all
  }
  for (const component of components) {
    const dir = path.join(localRoot, component);
    let files: string[] = [];
    try {
      files = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const f of files) h.update(`${component}/${f} ${stamp(path.join(dir, f))}\n`);
  }
  if (active) {
    for (const componentPath of Object.values(readSystem(active).components)) {
      const meta = readComponent(componentPath);
      h.update(`program ${meta.program.path} ${stamp(meta.program.path)}\n`);
      // Files read from elsewhere (what a snippet includes), as the active generation recorded them.
      for (const input of Object.values(meta.inputs)) for (const p of input.watch ?? []) h.update(`watch ${p} ${stamp(p)}\n`);
    }
  }
  return h.digest("hex");
}
