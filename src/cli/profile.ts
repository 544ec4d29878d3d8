import type { Command } from "commander";
import { CongruentError } from "../errors.js";
import { engineName, openStateStore, report, stateDir, STORE_HELP, type StoreOptions } from "./common.js";

interface ProfileOptions extends StoreOptions {
  user?: string;
  profilesDir?: string;
  json?: boolean;
}

const USER_HELP = "whose profile (default: the user running the command); only root may name another user";
const DIR_HELP = "profiles directory (default /nix/var/nix/profiles with --store nix, <state>/profiles with embedded)";
const STATE_HELP = "state directory, the embedded engine's store (default $CONGRUENT_STATE or /var/lib/congruent)";

/** The store, and the user's profile in it; a user other than oneself only for root. */
async function open(opts: ProfileOptions, changes: boolean) {
  const [{ account, checkMayManage, invoker }, { userProfile }] = await Promise.all([import("../profiles/account.js"), import("../profiles/profile.js")]);
  const engine = await engineName(opts);
  const { openStore } = await import("../store/index.js");
  // The nix engine's profiles are Nix's, whatever the state directory; an embedded state is checked.
  const store = engine === "nix" ? openStore({ stateDir: stateDir(opts), engine }) : await openStateStore(opts);
  const user = account(opts.user ?? invoker().name);
  if (changes) checkMayManage(user);
  return { engine, store, profile: userProfile(opts.profilesDir ?? store.profilesDir, user) };
}

function withCommon(cmd: Command): Command {
  return cmd
    .option("--user <user>", USER_HELP)
    .option("--store <engine>", STORE_HELP)
    .option("--profiles-dir <dir>", DIR_HELP)
    .option("--state <dir>", STATE_HELP);
}

/**
 * `congruent profile switch|list|rollback|remove`: per-user profiles in Nix's layout.
 *
 * @example registerProfile(program)
 */
export function registerProfile(program: Command): void {
  const profile = program
    .command("profile")
    .description("per-user profiles: <profiles>/per-user/<user>/profile -> profile-N-link -> store path, as Nix lays them out")
    .addHelpText(
      "after",
      `
A profile holds what a user's software needs from the store (a python, a library), so it
stays when the system's copy changes. Every generation is a gc root (Nix's gc with --store
nix, congruent gc with the embedded engine); 'congruent vulnscan --profile
per-user/<user>/profile' scans one, and userscan follows links into one (~/.nix-profile).
A user may change only their own profile; root any.`,
    );

  withCommon(profile.command("switch"))
    .description("install a store path as the new current generation of a user's profile")
    .option("--file <default.nix>", "build this Nix expression with nix-build (as the user; needs --store nix) and install its result")
    .option("--paths <file>", "install these store paths, already in the store, one a line (several are merged into one path)")
    .option("--json", "print {user, profile, generation, path, previous, result} as JSON")
    .addHelpText(
      "after",
      `
--file runs nix-build as the profile's user (root never builds a user's expression with its
own rights: as another user, Nix goes through its daemon, as on a multi-user Nix install),
offline or not as Nix's own settings say. The result must be one store path.
--paths installs paths already present: one path becomes the generation itself; several are
merged into one new store path, as Nix's buildEnv does (bin/ of each linked into one bin/;
a file two paths both provide is an error).
A result equal to the current generation makes no new one (result "unchanged").

Examples:
  congruent profile switch --store nix --user alice --file /home/alice/app/default.nix
  congruent profile switch --user alice --paths paths.txt`,
    )
    .action(async (opts: ProfileOptions & { file?: string; paths?: string }) => {
      if (Boolean(opts.file) === Boolean(opts.paths)) throw new CongruentError("E_USAGE", "profile switch: give one of --file default.nix or --paths FILE");
      const { engine, store, profile: p } = await open(opts, true);
      if (opts.file && engine !== "nix") throw new CongruentError("E_USAGE", "--file builds with nix-build into the Nix store: it needs --store nix (the embedded engine takes --paths)");
      const [{ switchProfile }, { nixBuild }, { readPathsFile }, { profileEnvironment }] = await Promise.all([
        import("../profiles/profile.js"),
        import("../profiles/nix-build.js"),
        import("../profiles/paths-file.js"),
        import("../profiles/environment.js"),
      ]);
      const log = opts.json ? () => {} : (text: string) => process.stderr.write(text);
      const out = await switchProfile(p, store, () => (opts.file ? nixBuild(opts.file, p.account, p.dir, log) : profileEnvironment(store, readPathsFile(opts.paths!, store))));
      report(opts.json, out, () => `${out.result}: ${out.profile} -> generation ${out.generation} (${out.path})${out.previous !== null && out.result === "switched" ? `, was ${out.previous}` : ""}`);
    });

  withCommon(profile.command("list"))
    .description("list the generations of a user's profile, the current one marked")
    .option("--json", "print [{number, path, createdAt, current}] as JSON")
    .action(async (opts: ProfileOptions) => {
      const { profile: p } = await open(opts, false);
      const { listGenerations } = await import("../profiles/profile.js");
      const list = listGenerations(p);
      report(opts.json, list, () => list.map((g) => `${String(g.number).padStart(4)}  ${g.createdAt.toISOString()}  ${g.path}${g.current ? "  (current)" : ""}`).join("\n") || `${p.link}: no generations`);
    });

  withCommon(profile.command("rollback"))
    .description("point a user's profile at the generation before the current one")
    .option("--json", "print {user, profile, generation, path, previous} as JSON")
    .action(async (opts: ProfileOptions) => {
      const { profile: p } = await open(opts, true);
      const { rollbackProfile } = await import("../profiles/profile.js");
      const out = await rollbackProfile(p);
      report(opts.json, out, () => `rolled back: ${out.profile} -> generation ${out.generation} (${out.path}), was ${out.previous}`);
    });

  withCommon(profile.command("remove"))
    .description("delete one generation of a user's profile (not the current one); gc may then take its store path")
    .requiredOption("--generation <n>", "the generation's number (see profile list)")
    .option("--json", "print {user, profile, removed, path} as JSON")
    .action(async (opts: ProfileOptions & { generation: string }) => {
      const n = Number(opts.generation);
      if (!Number.isInteger(n) || n < 1) throw new CongruentError("E_USAGE", `--generation: expected a generation number, got "${opts.generation}"`);
      const { profile: p } = await open(opts, true);
      const { removeGeneration } = await import("../profiles/profile.js");
      const out = await removeGeneration(p, n);
      report(opts.json, out, () => `removed generation ${out.removed} of ${out.profile} (${out.path})`);
    });
}
