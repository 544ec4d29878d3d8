import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import os from "node:os";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { carryOver, type CarryOver } from "./carry-over.js";
import type { LeftOut, Secret } from "./conversion.js";
import { convertAll } from "./conversions.js";
import { proposeProfiles, type ProfileProposal } from "./profile-proposal.js";
import type { Blocker, Inventory, NginxFact, Problem } from "./types.js";
import { canSandbox, newHostView, sandboxArgv, sh } from "./verify/sandbox.js";
import { upstreams } from "./verify/upstreams.js";
import { endpoints } from "./verify/requests.js";
import { selfModule } from "./verify/self.js";
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
  /** Paths to copy from the legacy host as they are, with their size (`carry-over.list`). */
  data: CarryOver["data"];
  /** Directories to create empty on the new host (`directories.list`). */
  directories: CarryOver["directories"];
  /** Applications their deployment tool deploys again on the new host. */
  deployments: CarryOver["deployments"];
  /** People's accounts to create on the new host. */
  accounts: CarryOver["accounts"];
  /** Configuration left behind for a person to look at (never copied over the new host's own files). */
  review: CarryOver["review"];
  /** The inventory's blockers, and what the plan found it cannot carry over the same. */
  blockers: Blocker[];
  /** A user profile for each home that links system libraries or interpreters (`home-links-system`). */
  profiles: ProfileProposal[];
  /** Problems the inventory met (its file and line), carried along so nobody loses them. */
  problems: Problem[];
  /** The build of the proposal, and where it was judged (as on the new host, or on this one as it is). */
  build: { ok: boolean; generation?: string; hash?: string; error?: string; skipped?: string; judged?: string };
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
 * was left out and why, secrets to carry, data to carry, blockers), `carry-over.list` (paths to
 * copy as they are, one a line, for `rsync --files-from`) and `directories.list` (directories to
 * create). Then build the description in a throwaway state directory, so the plan is known to build.
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

  const carry = carryOver(inv, conversions.flatMap((c) => c.requires ?? []));
  writeFileSync(path.join(out, "carry-over.list"), carry.data.map((d) => d.path).join("\n") + "\n");
  writeFileSync(path.join(out, "directories.list"), carry.directories.map((d) => d.path).join("\n") + (carry.directories.length ? "\n" : ""));

  const plan: Plan = {
    format: PLAN_FORMAT,
    host: inv.host,
    description,
    snippets,
    leftOut,
    secrets: conversions.flatMap((c) => c.secrets),
    ...carry,
    blockers: [...inv.blockers, ...conversions.flatMap((c) => c.blockers ?? [])],
    profiles: proposeProfiles(inv),
    problems: inv.problems,
    build: opts.build === false ? { ok: false, skipped: "--no-build" } : await buildPlan(hostFile, local, inv.root, carry, inv.facts.nginx),
  };
  const refused = refusedSetting(plan.build, local, snippets);
  // Unless a blocker already names that setting (a locale the host lacks, found before the build).
  if (refused && !plan.blockers.some((b) => b.detail.includes(`${refused.setting} (`))) plan.blockers.push(refused.blocker);
  writeFileSync(path.join(out, "plan.json"), JSON.stringify(plan, null, 2) + "\n");
  return plan;
}

// Servers whose own parser judges a migrated setting in the build (redis-server, postgres -C):
// a line one of them refuses is a legacy setting the platform's server does not take.
const SERVER_CHECKED = new Set(["redis", "postgresql"]);

/**
 * A blocker for a build that failed on a line of a migrated Redis or PostgreSQL snippet: the
 * platform's server refuses a setting the legacy one took (`activedefrag yes` where Debian's
 * redis-server has no jemalloc), which a person must decide about. nginx failures stay build
 * errors: there a failure more likely means the translation is wrong.
 */
function refusedSetting(build: Plan["build"], local: string, snippets: Plan["snippets"]): { setting: string; blocker: Blocker } | undefined {
  if (build.ok || !build.error?.startsWith(`${local}/`)) return undefined;
  const m = /^(\w+)\/([^:/]+):(\d+): (.*)$/s.exec(build.error.slice(local.length + 1));
  if (!m || !SERVER_CHECKED.has(m[1]!)) return undefined;
  const [, component, file, line, why] = m;
  let text = "";
  try {
    // The line without the comment that names its legacy file (PostgreSQL's migrated.conf).
    text = (readFileSync(path.join(local, component!, file!), "utf8").split("\n")[Number(line) - 1] ?? "").replace(/\s+#.*$/, "").trim();
  } catch {
    // the snippet is gone: the error still says what was refused
  }
  const setting = text.split(/[\s=]+/)[0] || `${file}:${line}`;
  const from = snippets.find((s) => s.component === component && s.file.endsWith(`/${file}`))?.from.join(", ");
  return { setting, blocker: { kind: "platform-lacks", subject: `${component} ${setting}`, detail: `${text || setting} (local/${component}/${file}:${line}${from ? `, from ${from}` : ""}): the platform's ${component === "redis" ? "redis-server" : "PostgreSQL"} refuses it: ${why}` } };
}

/**
 * `congruent build` of the proposed description, in a throwaway state directory (never the
 * machine's own /var/lib/congruent), judged as it will be on the new host: run in this host's
 * new-host view (the plan's carry-over applied: its certificates, served content and cache
 * directories at their paths), so what the plan carries over counts and nothing else of the
 * legacy tree does. Without root (no sandbox) the build runs here and says so. The README links
 * the build drops into the integration points are removed again so the plan directory holds only the plan.
 */
async function buildPlan(hostFile: string, local: string, legacyRoot: string, carry: CarryOver, nginx: NginxFact | null): Promise<Plan["build"]> {
  const state = mkdtempSync(path.join(os.tmpdir(), "congruent-migrate-build-"));
  try {
    const can = canSandbox();
    if (can.ok && existsSync(legacyRoot)) {
      // Upstream host names resolve on the new host's network; this one may have no DNS at all.
      const names = nginx ? [...upstreams(nginx.http, nginx.servers).names.keys()].filter((n) => spawnSync("getent", ["hosts", n], { timeout: 2000 }).status !== 0) : [];
      // nginx -t binds every listen address: the new host has the legacy host's addresses, this one may not.
      const addresses = nginx ? [...new Set(nginx.servers.flatMap((s) => endpoints(s)).map((e) => e.host))].filter((a) => isIP(a) && !/^127\.|^::1$/.test(a)) : [];
      const built = await buildInView(hostFile, local, state, legacyRoot, carry, names, addresses);
      const note =
        (names.length ? `; upstream host names this host cannot resolve taken as resolving on the new host: ${names.join(", ")}` : "") +
        (addresses.length ? `; in a network namespace with the addresses nginx listens on, as on the new host: ${addresses.join(", ")}` : "");
      return { ...built, judged: `as on the new host: this host with the plan's carry-over${note}` };
    }
    const { openStore } = await import("../store/index.js");
    const { buildGeneration } = await import("../generation/build.js");
    const store = openStore({ stateDir: state });
    const judged = `on this host as it is (${can.ok ? `the legacy root ${legacyRoot} is not readable here` : can.why}): files the plan carries over are not seen`;
    try {
      const r = await buildGeneration({ hostFile, localDir: local, stateDir: state, store });
      // The store was throwaway: the name says what was built, the hash that it is reproducible.
      return { ok: true, generation: path.basename(r.generation), hash: r.hash, judged };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error), judged };
    }
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

/** The build as `congruent build` in the new-host view, in a mount namespace of its own. */
async function buildInView(hostFile: string, local: string, state: string, legacyRoot: string, carry: CarryOver, names: string[], addresses: string[]): Promise<Plan["build"]> {
  const work = path.join(state, "view");
  const cli = selfModule("cli/main");
  const view = newHostView(work, legacyRoot, { copy: [...carry.data, ...carry.deployments].map((d) => d.path), create: carry.directories.map((d) => d.path) }, [state, path.dirname(hostFile), local, cli.at(-1)!]);
  const hosts = names.map((n, i) => `echo ${sh(`127.1.0.${i + 1} ${n}`)} >> ${sh(path.join(view.root, "etc/hosts"))}`);
  const own = addresses.map((a) => `ip addr add ${sh(a.includes(":") ? `${a}/128` : `${a}/32`)} dev lo`);
  const argv = sandboxArgv(view, ["chroot", view.root, ...cli, "build", "--host", hostFile, "--local", local, "--state", path.join(state, "state"), "--json"], { setup: [...hosts, ...own], net: own.length > 0 });
  const run = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", maxBuffer: 16 << 20 });
  if (run.status === 0) {
    const out = JSON.parse(run.stdout) as { generation: string; hash: string };
    return { ok: true, generation: path.basename(out.generation), hash: out.hash };
  }
  const said = (run.stderr || String(run.error ?? "")).trim().split("\n").filter(Boolean);
  return { ok: false, error: (said.find((l) => l.startsWith("congruent: ")) ?? said.at(-1) ?? `exit ${run.status}`).replace(/^congruent: /, "") };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
