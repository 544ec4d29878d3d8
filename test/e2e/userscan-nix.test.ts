import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeUnless } from "../support/skip.js";
import { makeZip } from "../../src/userscan/test-zip.js";

// Real Nix 2.8 on a store rooted in a temp dir (`nix-store --store DIR`): never the machine's /nix.
const env = { ...process.env, NIX_CONFIG: "substituters =\nexperimental-features = nix-command" };
const hasNix = spawnSync("nix-store", ["--version"]).status === 0;
const noNix = hasNix ? undefined : "nix-store is not installed (apt-get install nix-bin)";
const hasGcc = spawnSync("gcc", ["--version"]).status === 0;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "userscan-nix-e2e-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const nixRoot = path.join(tmp, "nixroot");
const realStore = path.join(nixRoot, "nix", "store");
const gcroots = path.join(nixRoot, "nix", "var", "nix", "gcroots");
const home = path.join(tmp, "home", "alice");

/** `congruent userscan …` from the sources, through a program that registers only this command. */
function congruent(args: string[]): { code: number; stdout: string; stderr: string } {
  const runner = path.join(tmp, "congruent.mts");
  if (!fs.existsSync(runner)) {
    fs.writeFileSync(
      runner,
      `import { Command, CommanderError } from ${JSON.stringify(path.join(repo, "node_modules/commander/esm.mjs"))};
import { registerUserscan } from ${JSON.stringify(path.join(repo, "src/cli/userscan.ts"))};
const program = new Command("congruent");
registerUserscan(program);
try { await program.parseAsync(process.argv); } catch (e) { if (e instanceof CommanderError) process.exit(e.exitCode); throw e; }
`,
    );
  }
  const r = spawnSync(process.execPath, ["--import", "tsx", runner, ...args], { cwd: repo, env, encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Add a directory holding one file to the temp Nix store; returns the /nix/store/… path. */
function nixAdd(name: string): string {
  const src = path.join(tmp, "src", name);
  fs.mkdirSync(path.join(src, "lib"), { recursive: true });
  fs.writeFileSync(path.join(src, "lib", "README"), `${name}\n`);
  return execFileSync("nix-store", ["--store", nixRoot, "--add", src], { env }).toString().trim();
}

describeUnless(noNix)("userscan against a real Nix store", () => {
  const kept: Record<string, string> = {};
  let unreferenced = "";
  let notInStore = "";

  beforeAll(() => {
    for (const kind of ["text", "elf", "gzip", "zip", "symlink", "split"]) kept[kind] = nixAdd(`keep-${kind}`);
    unreferenced = nixAdd("unreferenced");
    // A well-formed path of a package that is not (any more) in the store.
    notInStore = `/nix/store/${"0".repeat(31)}z-gone-1.0`;
    fs.mkdirSync(path.join(home, ".local", "bin"), { recursive: true });
    fs.mkdirSync(path.join(home, "app"), { recursive: true });
    fs.writeFileSync(path.join(home, ".profile"), `export PATH=${kept.text}/lib:$PATH\nexport OLD=${notInStore}/bin\n`);
    // Invalid Nix base32 (e, o, u, t) next to a valid hash: no reference.
    fs.writeFileSync(path.join(home, "app", "bogus.txt"), `/nix/store/${"e".repeat(32)}-x /nix/store/${"outt".repeat(8)}-y\n`);
    fs.writeFileSync(path.join(home, "app", "build.log.gz"), gzipSync(`linking with ${kept.gzip}/lib/libz.so\n`));
    fs.writeFileSync(path.join(home, "app", "bundle.zip"), makeZip({ "conf/paths.py": `LIB = "${kept.zip}/lib"\n` }));
    fs.symlinkSync(`${kept.symlink}/lib/README`, path.join(home, ".local", "bin", "tool"));
    // Split across the reader's 128 KiB chunk boundary, with a store prefix early for the quick check.
    const big = Buffer.alloc(1 << 20, 0x2e);
    big.write("/nix/store/", 100);
    big.write(kept.split as string, (128 << 10) - 20);
    fs.writeFileSync(path.join(home, "app", "data.bin"), big);
    if (hasGcc) {
      fs.writeFileSync(path.join(tmp, "hello.c"), 'int main(void) { return 0; }\n');
      execFileSync("gcc", ["-o", path.join(home, "app", "hello"), path.join(tmp, "hello.c"), `-Wl,-rpath,${kept.elf}/lib`]);
    } else {
      fs.writeFileSync(path.join(home, "app", "hello"), `\x7fELF\0${kept.elf}/lib\0`);
    }
  });

  it("--list prints every reference without registering roots", () => {
    const r = congruent(["userscan", "--list", "--json", "--store-root", nixRoot, "--unzip", "*.zip", home]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { references: { storePath: string; inStore: boolean; files: string[] }[]; rootsAdded: string[] };
    const found = Object.fromEntries(out.references.map((x) => [x.storePath, x]));
    for (const [kind, p] of Object.entries(kept)) expect(found[p]?.inStore, kind).toBe(true);
    expect(found[kept.elf as string]?.files).toEqual([path.join(home, "app", "hello")]);
    expect(found[kept.symlink as string]?.files).toEqual([path.join(home, ".local", "bin", "tool")]);
    expect(found[notInStore]?.inStore).toBe(false);
    expect(out.references).toHaveLength(Object.keys(kept).length + 1);
    expect(out.rootsAdded).toEqual([]);
    // Nix makes gcroots/per-user/<user> itself; nothing of ours may be in it.
    expect(fs.existsSync(path.join(gcroots, "per-user", os.userInfo().username, tmp))).toBe(false);
  });

  it("registers roots that nix-store --gc honours: referenced paths survive, the unreferenced one is deleted", () => {
    const r = congruent(["userscan", "--store-root", nixRoot, "--unzip", "*.zip", "--cache", path.join(tmp, "cache"), home]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/6 store paths referenced; roots: 6 added, 0 removed/);
    const user = os.userInfo().username;
    const link = path.join(gcroots, "per-user", user, home, "app", path.basename(kept.elf as string).slice(0, 32));
    expect(fs.readlinkSync(link)).toBe(kept.elf);

    execFileSync("nix-store", ["--store", nixRoot, "--gc"], { env, stdio: "ignore" });
    for (const [kind, p] of Object.entries(kept)) expect(fs.existsSync(path.join(realStore, path.basename(p))), kind).toBe(true);
    expect(fs.existsSync(path.join(realStore, path.basename(unreferenced)))).toBe(false);
  });

  it("a warm rescan reads nothing and changes nothing; a removed reference is unrooted and collected", () => {
    const cache = path.join(tmp, "cache");
    const warm = JSON.parse(congruent(["userscan", "--json", "--store-root", nixRoot, "--unzip", "*.zip", "--cache", cache, home]).stdout) as Record<string, unknown>;
    expect([warm.filesRead, warm.rootsAdded, warm.rootsRemoved]).toEqual([0, [], []]);

    fs.rmSync(path.join(home, "app", "build.log.gz"));
    const r = JSON.parse(congruent(["userscan", "--json", "--store-root", nixRoot, "--unzip", "*.zip", "--cache", cache, home]).stdout) as { rootsRemoved: string[] };
    expect(r.rootsRemoved).toHaveLength(1);
    execFileSync("nix-store", ["--store", nixRoot, "--gc"], { env, stdio: "ignore" });
    expect(fs.existsSync(path.join(realStore, path.basename(kept.gzip as string)))).toBe(false);
    expect(fs.existsSync(path.join(realStore, path.basename(kept.text as string)))).toBe(true);
  });

  it("exits 1 listing what it could not read, 2 on a hard error", () => {
    const missing = path.join(tmp, "no-such-home");
    const partial = congruent(["userscan", "--list", "--store-root", nixRoot, home, missing]);
    expect(partial.code).toBe(1);
    expect(partial.stderr).toContain(`cannot read ${missing}: ENOENT`);
    const hard = congruent(["userscan", "--store-dir", "relative/store", home]);
    expect(hard.code).toBe(2);
    expect(congruent(["userscan", "--quickcheck", "lots", home]).code).toBe(2);
    expect(congruent(["userscan"]).code).toBe(2);
  });
});
