import { mkdirSync, mkdtempSync, readdirSync, lstatSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { LeftOut, Secret } from "./conversion.js";
import { convertAll } from "./conversions.js";
import { proposeProfiles, type ProfileProposal } from "./profile-proposal.js";
import type { Blocker, Inventory, Problem } from "./types.js";
import { NAME_MAX, NAME_PATTERN } from "../schema/names.js";

export const PLAN_FORMAT = "congruent-migrate-plan/1";
export const INTEGRATION_POINTS = ["nginx", "postgresql", "redis", "memcached"];

export interface HostDescriptionOut {
  name: string;
  roles: string[];
  parameters: Record<string, string>;
  settings: Record<string, Record<string, number | string | boolean>>;
}

/** What `migrate plan` writes to `<out>/plan.json` and prints with `--json`. */
export interface Plan {
  format: typeof PLAN_FORMAT;
  host: string;
  /** `<out>/host.json`. */
  description: HostDescriptionOut;
  snippets: { component: string; file: string; from: string[] }[];
  leftOut: LeftOut[];
  secrets: Secret[];
  /** Divergent paths to carry over as data, with their size. */
  data: { path: string; kind: string; bytes: number; reason: string }[];
  blockers: Blocker[];
  /** A user profile for each home that links system libraries or interpreters (`home-links-system`). */
  profiles: ProfileProposal[];
  /** Problems the inventory met (its file and line), carried along so nobody loses them. */
  problems: Problem[];
  build: { ok: boolean; generation?: string; hash?: string; error?: string; skipped?: string };
}

export interface PlanOptions {
  inventory: Inventory;
  out: string;
  /** Run `congruent build` on the proposed description (default true). */
  build?: boolean;
}

/**
 * Propose the Congruent description of an assessed host and write it to `out`: host.json,
 * `local/<component>/` snippets converted from the legacy configuration, `plan.json` (what
 * was left out and why, secrets to carry, data to carry, blockers) and `carry-over.list`
 * (divergent paths, one a line, for `rsync --files-from`). Then build the description
 * in a throwaway state directory, so the plan is known to build.
 *
 * @example const plan = await makePlan({ inventory, out: "plans/web17" }); plan.build.ok
 */
export async function makePlan(opts: PlanOptions): Promise<Plan> {
  const inv = opts.inventory;
  const out = path.resolve(opts.out);
  const local = path.join(out, "local");
  try {
    mkdirSync(out, { recursive: true });
    // Snippets of an earlier plan for this directory would otherwise be built with the new ones.
    for (const c of INTEGRATION_POINTS) rmSync(path.join(local, c), { recursive: true, force: true });
  } catch (error) {
    throw new CongruentError("E_MIGRATE_PLAN", `${out}: cannot write the plan: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const { conversions, leftOut } = convertAll(inv.facts);
  const name = NAME_PATTERN.test(inv.host) ? inv.host : inv.host.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "").slice(0, NAME_MAX) || "legacy";
  const description: HostDescriptionOut = {
    name,
    roles: conversions.map((c) => c.role),
    // No timestamp: planning the same inventory twice must give the same description (and hash).
    parameters: { migrated_from: `${inv.host} (Gentoo)` },
    settings: {},
  };
  const snippets: Plan["snippets"] = [];
  for (const c of conversions) {
    if (Object.keys(c.settings).length) description.settings[c.component] = c.settings;
    for (const s of c.snippets) {
      const file = path.join(local, c.component, s.name);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, s.text);
      snippets.push({ component: c.component, file: path.relative(out, file), from: s.from });
    }
    leftOut.push(...c.leftOut);
  }
  const hostFile = path.join(out, "host.json");
  writeFileSync(hostFile, JSON.stringify(description, null, 2) + "\n");

  const data = inv.items
    .filter((i) => i.class === "divergent" && i.kind !== "config")
    .map((i) => ({ path: i.id, kind: i.kind as string, bytes: i.bytes ?? 0, reason: i.reason }));
  const configData = inv.items.filter((i) => i.class === "divergent" && i.kind === "config").map((i) => ({ path: i.id, kind: "config", bytes: 0, reason: i.reason }));
  data.push(...configData);
  writeFileSync(path.join(out, "carry-over.list"), data.map((d) => d.path).join("\n") + "\n");

  const plan: Plan = {
    format: PLAN_FORMAT,
    host: inv.host,
    description,
    snippets,
    leftOut,
    secrets: conversions.flatMap((c) => c.secrets),
    data,
    blockers: inv.blockers,
    profiles: proposeProfiles(inv),
    problems: inv.problems,
    build: opts.build === false ? { ok: false, skipped: "--no-build" } : await buildPlan(hostFile, local),
  };
  writeFileSync(path.join(out, "plan.json"), JSON.stringify(plan, null, 2) + "\n");
  return plan;
}

/**
 * `congruent build` of the proposed description, in a throwaway state directory (never the
 * machine's own /var/lib/congruent); the README links the build drops into the integration
 * points are removed again so the plan directory holds only the plan.
 */
async function buildPlan(hostFile: string, local: string): Promise<Plan["build"]> {
  const state = mkdtempSync(path.join(os.tmpdir(), "congruent-migrate-build-"));
  try {
    const { openStore } = await import("../store/index.js");
    const { buildGeneration } = await import("../generation/build.js");
    const store = openStore({ stateDir: state });
    const r = await buildGeneration({ hostFile, localDir: local, stateDir: state, store });
    // The store was throwaway: the name says what was built, the hash that it is reproducible.
    return { ok: true, generation: path.basename(r.generation), hash: r.hash };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    for (const c of safeList(local)) {
      const readme = path.join(local, c, "README.txt");
      try {
        if (lstatSync(readme).isSymbolicLink()) rmSync(readme);
      } catch {
        // no README linked: nothing to tidy
      }
    }
    rmSync(state, { recursive: true, force: true });
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
