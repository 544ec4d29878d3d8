import fs from "node:fs";
import { CommanderError, InvalidArgumentError, type Command } from "commander";
import { CongruentError } from "../errors.js";
import { report } from "./common.js";

interface UserscanCliOptions {
  storeDir: string;
  gcrootsDir?: string;
  storeRoot?: string;
  cache?: string;
  list?: boolean;
  json?: boolean;
  exclude: string[];
  excludeFrom?: string;
  unzip: string[];
  quickcheck: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function kib(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("a whole number of KiB is expected.");
  return n;
}

/**
 * `congruent userscan PATH...`: protect store paths that unmanaged software in homes refers to.
 * Exit 0 when all is well, 1 when some files could not be read (listed on stderr), 2 on a hard
 * error (bad arguments, lock held too long, roots not writable).
 *
 * @example registerUserscan(program); await program.parseAsync(["node", "congruent", "userscan", "--list", "/home"]);
 */
export function registerUserscan(program: Command): void {
  program
    .command("userscan")
    .description(
      "find store-path references in files under PATH (text and binaries, gzip files and zip members too) " +
        "and register each referenced store path as a GC root of the file's owner, so that the garbage " +
        "collector keeps what software compiled or unpacked in homes still uses",
    )
    .argument("<path...>", "files and directories to scan (hidden files included; other filesystems and symlinked directories are not entered)")
    .option("--store-dir <dir>", "store directory references point into", "/nix/store")
    .option("--gcroots-dir <dir>", "GC roots directory (default: /nix/var/nix/gcroots)")
    .option("--store-root <dir>", "the store is a chroot store rooted at DIR, as with 'nix-store --store DIR': paths are looked up under DIR and --gcroots-dir defaults to DIR/nix/var/nix/gcroots")
    .option("--cache <file>", "remember each file's references by device, inode, size, mtime and ctime; unchanged files are not read again")
    .option("--list", "print the references found, register and remove no roots")
    .option("--json", "print the result as JSON: references, rootsAdded, rootsRemoved, unreadable, warnings, counts, reader")
    .option("--exclude <glob>", "skip files and directories matching GLOB (repeatable)", collect, [])
    .option("--exclude-from <file>", "read --exclude globs from FILE, one a line ('#' starts a comment)")
    .option("--unzip <glob>", "also scan the members of zip archives (zip, jar, whl, egg) matching GLOB (repeatable)", collect, [])
    .option("--quickcheck <KiB>", "skip the rest of a file whose first KiB hold no store prefix; 0 reads every file whole", kib, 512)
    .exitOverride((error) => {
      // Usage errors are hard errors: exit 2, as the exit codes below promise.
      throw error.exitCode === 0 ? error : new CommanderError(2, error.code, error.message);
    })
    .addHelpText(
      "after",
      `
A reference is <store-dir>/<hash>-<name>: 32 characters of Nix base32 (digits and
lower-case letters without e, o, t, u), a dash, and a name of [A-Za-z0-9+-._?=], as
found in ELF RPATHs, shebangs, .pyc files, scripts, virtualenvs and node_modules.
Only references to paths present in the store are registered, as symlinks laid out
the way Nix lays out per-user roots:

  <gcroots-dir>/per-user/<owner of the file>/<absolute dir of the file>/<hash>
      -> <store-dir>/<hash>-<name>

A rescan first writes every new link, then removes links that no scanned file needs
any more: a path still in use is never unrooted, not even for a moment. Links of
directories that could not be read, were excluded or are on another filesystem are
kept. gzip files (by their magic bytes) are inflated and scanned; the quick check
does not apply to archive contents. Symlinks are not followed; their targets are
checked. Concurrent runs with the same --cache wait for each other (a lock file
next to the cache, with the owner's PID; a lock of a dead process is broken).

Files are walked, stat'ed and read by a native reader (C, built by npm ci) where it
was built, else by the TypeScript one: the same results and cache file, slower.
CONGRUENT_USERSCAN_NATIVE=0 turns the native reader off; --json's "reader" says
which one ran.

Exit status: 0 all is well; 1 some files could not be read (listed on stderr, the
rest is done); 2 a hard error (bad arguments, cache lock, roots not writable).

Examples:
  $ congruent userscan --list ~/app
  /home/alice/app/bin/app: /nix/store/9krlzvny65gdc8s7kpb6lkx8cd02c25b-glibc-2.37-8
  $ congruent userscan --cache /var/cache/congruent/userscan.cache \\
        --exclude '.cache' --unzip '*.whl' --unzip '*.egg' --unzip '*.jar' /home
  48211 files (312 read, 47899 cached, 96.4 MiB), 1043 store paths referenced; roots: 3 added, 1 removed
  $ congruent userscan --store-root /tmp/nixroot --json /home/alice   # a 'nix-store --store /tmp/nixroot' store`,
    )
    .action(async (paths: string[], opts: UserscanCliOptions) => {
      let bar: { update(v: number, p: object): void; stop(): void } | undefined;
      try {
        const exclude = [...opts.exclude];
        if (opts.excludeFrom !== undefined) {
          const { parseGlobFile } = await import("../userscan/glob.js");
          let text: string;
          try {
            text = fs.readFileSync(opts.excludeFrom, "utf8");
          } catch (error) {
            throw new CongruentError("E_USAGE", `cannot read --exclude-from ${opts.excludeFrom}: ${(error as Error).message}`);
          }
          exclude.push(...parseGlobFile(text));
        }
        if (process.stderr.isTTY && !opts.json) bar = await progressBar();
        const { userscan, sortLocale } = await import("../userscan/index.js");
        const result = await userscan({
          paths,
          storeDir: opts.storeDir,
          gcrootsDir: opts.gcrootsDir,
          storeRoot: opts.storeRoot,
          cacheFile: opts.cache,
          list: opts.list,
          exclude,
          unzip: opts.unzip,
          quickcheckKiB: opts.quickcheck,
          onProgress: bar && ((p) => bar?.update(p.files, { mib: (p.bytes / 1048576).toFixed(1) })),
          onWarning: (m) => {
            bar?.stop();
            bar = undefined;
            process.stderr.write(`congruent userscan: warning: ${m}\n`);
          },
        });
        bar?.stop();
        report(opts.json, result, () => {
          if (opts.list) return listText(result.references, sortLocale);
          const mib = (result.bytes / 1048576).toFixed(1);
          const inStore = result.references.filter((r) => r.inStore).length;
          return `${result.files} files (${result.filesRead} read, ${result.filesCached} cached, ${mib} MiB), ${inStore} store paths referenced; roots: ${result.rootsAdded.length} added, ${result.rootsRemoved.length} removed`;
        });
        for (const u of result.unreadable) process.stderr.write(`congruent userscan: cannot read ${u.path}: ${u.error}\n`);
        if (result.unreadable.length > 0) process.exitCode = 1;
      } catch (error) {
        bar?.stop();
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`congruent userscan: ${message.split("\n")[0]}\n`);
        if (process.env.CONGRUENT_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
        process.exitCode = 2;
      }
      // Done: exit once stdout and stderr are flushed, instead of after V8 has torn down a heap
      // of tens of MiB and the reader threads (measured: 30-40 ms between the last write and
      // exit). Nothing runs after a command's action.
      await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((r) => s.write("", () => r()))));
      process.exit();
    });
}

/** `<file>: <store path> …`, one line per file, only paths in the store (as they would be rooted). */
function listText(references: { storePath: string; inStore: boolean; files: string[] }[], sortLocale: <T>(items: T[], key: (item: T) => string) => T[]): string {
  const byFile = new Map<string, string[]>();
  for (const r of references) {
    if (!r.inStore) continue;
    for (const f of r.files) {
      const refs = byFile.get(f);
      if (refs) refs.push(r.storePath);
      else byFile.set(f, [r.storePath]);
    }
  }
  let text = "";
  for (const f of sortLocale([...byFile.keys()], (k) => k)) text += `${text ? "\n" : ""}${f}: ${(byFile.get(f) as string[]).join(" ")}`;
  return text;
}

/** A one-line counter on the terminal (cli-progress, loaded only when there is a terminal). */
async function progressBar() {
  const { default: progress } = await import("cli-progress");
  const bar = new progress.SingleBar({ format: "userscan: {value} files, {mib} MiB", stream: process.stderr, fps: 5, clearOnComplete: true, hideCursor: true });
  bar.start(0, 0, { mib: "0.0" });
  return bar;
}
