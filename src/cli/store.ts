import path from "node:path";
import type { Command } from "commander";
import { CongruentError } from "../errors.js";
import { engineName, openStateStore, report, stateDir, STORE_HELP, type StateOptions, type StoreOptions } from "./common.js";

interface JsonOptions extends StateOptions {
  json?: boolean;
}

const STATE_HELP = "state directory (default: $CONGRUENT_STATE, else /var/lib/congruent)";

/** Heavy modules load only when a store command runs: start-up time of every command matters. */
async function embedded(opts: StateOptions) {
  const { EmbeddedStore } = await import("../store/engines/embedded/index.js");
  return new EmbeddedStore({ stateDir: stateDir(opts) });
}

/**
 * `congruent store add|ls|refs|verify` and `congruent gc`.
 *
 * @example registerStore(program); await program.parseAsync(["node", "congruent", "gc", "--dry-run"]);
 */
export function registerStore(program: Command): void {
  const store = program
    .command("store")
    .description("inspect and add to the content-addressed store (<state>/store), laid out as Nix lays out /nix/store");

  store
    .command("add")
    .description("add a file or directory to the store and print its store path")
    .argument("<path>", "file, directory or symlink to add (symlinks inside are stored, not followed)")
    .option("--name <name>", "name part of the store path (default: the base name of PATH)")
    .option("--store-dir <dir>", "compute the path for this store directory, e.g. /nix/store (needs --dry-run unless it is the state's store)")
    .option("--dry-run", "compute and print the path, write nothing")
    .option("--json", "print {path, name, dryRun} as JSON")
    .option("--state <dir>", STATE_HELP)
    .addHelpText(
      "after",
      `
The path is <store-dir>/<hash>-<name>, where <hash> is computed exactly as
'nix-store --add' computes it: the SHA-256 of the NAR serialisation of PATH,
folded into a store path hash and written in Nix base32. Only contents, the
executable bit and symlink targets count; owners, times and other modes do not.
Names may use [A-Za-z0-9+-._?=], must not start with '.', and are at most 211
characters long.

The added path is read-only (files 0444 or 0555, directories 0555). Adding a
path that is already in the store changes nothing and prints the same path.

Examples:
  $ congruent store add ./site
  /var/lib/congruent/store/1b8m03r63zqhnjf7l5wnldhh7c134ap5-site
  $ congruent store add --dry-run --store-dir /nix/store ./site
  (prints what 'nix-store --add ./site' prints, and writes nothing)`,
    )
    .action(async (source: string, opts: JsonOptions & { name?: string; storeDir?: string; dryRun?: boolean }) => {
      const store = await embedded(opts);
      const name = opts.name ?? path.basename(path.resolve(source));
      const dir = opts.storeDir === undefined ? store.storeDir : path.resolve(opts.storeDir);
      let result: string;
      if (opts.dryRun) {
        const [{ readTree }, { sourcePath }] = await Promise.all([import("../store/nar.js"), import("../store/path-hash.js")]);
        result = sourcePath(readTree(source), name, [], dir);
      } else {
        if (dir !== store.storeDir) {
          throw new CongruentError("E_USAGE", `--store-dir ${dir} is not this state's store (${store.storeDir}); add --dry-run to only compute the path`);
        }
        result = await store.addPath(source, { name });
      }
      report(opts.json, { path: result, name, dryRun: Boolean(opts.dryRun) }, () => result);
    });

  store
    .command("ls")
    .description("list every valid store path")
    .option("--json", "print [{path, narHash, narSize, references, registrationTime}] as JSON")
    .option("--state <dir>", STATE_HELP)
    .addHelpText("after", "\nA path is valid once it and its metadata are complete; half-written temp\nentries left by an interrupted add are never listed (gc removes them).")
    .action(async (opts: JsonOptions) => {
      const store = await embedded(opts);
      const paths = store.list();
      report(opts.json, paths.map((p) => store.info(p)), () => paths.join("\n"));
    });

  store
    .command("refs")
    .description("print the references recorded for a store path")
    .argument("<path>", "a store path, e.g. /var/lib/congruent/store/<hash>-system-web1")
    .option("--json", "print {path, references} as JSON")
    .option("--state <dir>", STATE_HELP)
    .addHelpText("after", "\nReferences are recorded when a path is added and never change; gc keeps\nevery path reachable from a root through them. Like 'nix-store -q --references'.")
    .action(async (p: string, opts: JsonOptions) => {
      const store = await embedded(opts);
      const target = path.resolve(p);
      const references = store.references(target);
      report(opts.json, { path: target, references }, () => references.join("\n"));
    });

  store
    .command("verify")
    .description("check that every store path still has its recorded contents, is read-only and has its references")
    .option("--json", "print {checked, problems: [{path, problem}]} as JSON")
    .option("--state <dir>", STATE_HELP)
    .addHelpText("after", "\nRe-hashes every path, like 'nix-store --verify --check-contents'.\nExit status: 0 if all is well, 1 if any problem was found.")
    .action(async (opts: JsonOptions) => {
      const { verifyStore } = await import("../store/engines/embedded/verify.js");
      const { checked, problems } = verifyStore(await embedded(opts));
      report(opts.json, { checked, problems }, () =>
        [`checked ${checked.length} paths, ${problems.length} problems`, ...problems.map((x) => `${x.path}: ${x.problem}`)].join("\n"),
      );
      if (problems.length > 0) process.exitCode = 1;
    });

  program
    .command("gc")
    .description("delete every store path that no gc root reaches")
    .option("--dry-run", "print what would be deleted, delete nothing")
    .option("--json", 'print {"deleted": [...], "kept": [...]} as JSON (with the nix engine also "collector": "nix")')
    .option("--state <dir>", STATE_HELP)
    .option("--store <engine>", STORE_HELP)
    .addHelpText(
      "after",
      `
Roots are the symlinks under <state>/gcroots/, searched recursively; a link to a
directory outside the store is searched too, so <state>/gcroots/profiles ->
../profiles makes every generation of every profile a root. A link to a file
inside a store path roots the whole path. Everything reachable from a root
through recorded references is kept; everything else is deleted. gc also removes
what interrupted adds left behind (temp entries older than five minutes, orphan
metadata).

To let an old generation go, delete its <state>/profiles/system-<N>-link first.

With --store nix, collection is Nix's own: 'congruent gc' deletes nothing and says so. Run
'nix-store --gc' (every generation of the system profile /nix/var/nix/profiles/system and
of every user profile is one of its roots; 'nix-env -p PROFILE --delete-generations N'
lets one go).`,
    )
    .action(async (opts: JsonOptions & StoreOptions & { dryRun?: boolean }) => {
      if ((await engineName(opts)) === "nix") {
        const store = await openStateStore(opts);
        const message = `the nix engine leaves collection to Nix: run 'nix-store --gc' (the generations in ${store.profilesDir} are its roots)`;
        report(opts.json, { deleted: [], kept: [], collector: "nix", message }, () => message);
        return;
      }
      await openStateStore(opts);
      const { collectGarbage } = await import("../store/gc.js");
      const { withLock } = await import("../store/lock.js");
      // Under the state lock: a switch between build and profile link must not lose its generation.
      const state = stateDir(opts);
      const { deleted, kept } = await withLock(state, () => collectGarbage(state, { dryRun: opts.dryRun }));
      const verb = opts.dryRun ? "would delete" : "deleted";
      report(opts.json, { deleted, kept }, () => [`${verb} ${deleted.length} store paths, kept ${kept.length}`, ...deleted].join("\n"));
    });
}
