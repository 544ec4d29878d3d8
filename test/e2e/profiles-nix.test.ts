import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { account } from "../../src/profiles/account.js";
import { cli, tempDir } from "../helpers.js";
import { describeWithNix, nixEnv, startNixDaemon, type NixDaemon } from "../support/nix.js";
import { ALICE, BOB, cliAs, describeAsRoot, runProfileSuite, type ProfileOut } from "./profiles.case.js";

// Real Nix 2.8 and its daemon (users other than root reach the store through it, as on a
// multi-user install), on a store rooted in each test's own directory, never the machine's /nix.
const run = (env: Record<string, string>, argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { env: { ...process.env, ...env } }).toString();
const valid = (env: Record<string, string>, p: string) => spawnSync("nix-store", ["--check-validity", p], { env: { ...process.env, ...env } }).status === 0;

async function nixSetup(root: string) {
  const state = path.join(root, "state");
  const env: Record<string, string> = { ...nixEnv(root), CONGRUENT_STORE: "nix", CONGRUENT_STATE: state };
  const daemon = await startNixDaemon(env);
  // A host on the nix engine: its <state>/profiles is Nix's, so `--profile per-user/…` names work.
  await cli(["generations"], env);
  return { env, daemon, profilesDir: path.join(env.NIX_STATE_DIR!, "profiles"), storeDir: env.NIX_STORE_DIR! };
}

describeWithNix("profiles on real Nix", () => {
  runProfileSuite({
    name: "nix",
    async setup(root) {
      const { env, daemon, profilesDir, storeDir } = await nixSetup(root);
      return {
        env,
        profilesDir,
        storeDir,
        add: async (source) => run(env, ["nix-store", "--add", source]).trim(),
        collect: async () => void run(env, ["nix-store", "--gc"]),
        valid: (p) => valid(env, p),
        stop: () => daemon.stop(),
      };
    },
  });
});

/** A derivation that needs no nixpkgs: its builder sees an empty PATH, so absolute paths. */
const hello = (version: string, script = "") =>
  `derivation { name = "hello-${version}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "${script}/bin/mkdir -p $out/bin; echo '#!/bin/sh' > $out/bin/hello; echo 'echo hello ${version}' >> $out/bin/hello; /bin/chmod +x $out/bin/hello" ]; }\n`;

describeWithNix("a user's default.nix", () => describeAsRoot("builds into their profile (nix-build, offline)", () => {
  const root = tempDir("profiles-nix-build-");
  fs.chmodSync(root, 0o755);
  let env: Record<string, string>;
  let daemon: NixDaemon;
  let link = "";
  const project = (name: string, text: string) => {
    fs.mkdirSync(path.join(root, name), { recursive: true });
    fs.writeFileSync(path.join(root, name, "default.nix"), text);
    return path.join(root, name, "default.nix");
  };
  const profile = async (args: string[], user?: string) => {
    const r = user ? await cliAs(user, ["profile", ...args, "--json"], env) : await cli(["profile", ...args, "--json"], env);
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as ProfileOut;
  };
  const hi = () => execFileSync(path.join(link, "bin", "hello")).toString();
  const generationLinks = () => fs.readdirSync(path.dirname(link)).filter((n) => n !== "lock").sort();

  beforeAll(async () => {
    const s = await nixSetup(root);
    env = s.env;
    daemon = s.daemon;
    link = path.join(s.profilesDir, "per-user", ALICE, "profile");
  });
  afterAll(async () => {
    await daemon.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("root builds a user's default.nix as that user into the user's profile", async () => {
    const out = await profile(["switch", "--user", ALICE, "--file", project("v1", hello("1.0"))]);
    expect(out).toMatchObject({ user: ALICE, profile: link, generation: 1, result: "switched" });
    expect(out.path).toMatch(new RegExp(`^${env.NIX_STORE_DIR}/[0-9a-z]{32}-hello-1.0$`));
    expect(fs.readlinkSync(path.join(path.dirname(link), "profile-1-link"))).toBe(out.path);
    expect(hi()).toBe("hello 1.0\n");
    expect(fs.lstatSync(path.join(path.dirname(link), "profile-1-link")).uid).toBe(account(ALICE).uid);
    expect(generationLinks()).toEqual(["profile", "profile-1-link"]);
  });

  it("the expression is evaluated with the user's rights, not root's", async () => {
    const secret = path.join(root, "root-only");
    fs.writeFileSync(secret, "secret\n", { mode: 0o600 });
    const r = await cli(["profile", "switch", "--user", ALICE, "--file", project("sneaky", `builtins.toFile "x" (builtins.readFile ${secret})\n`)], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`nix-build .*sneaky/default.nix as ${ALICE} failed .*Permission denied`));
    expect(generationLinks()).toEqual(["profile", "profile-1-link"]);
  });

  it("a new version is a new generation; the user rolls back to the previous one", async () => {
    expect(await profile(["switch", "--file", project("v2", hello("2.0"))], ALICE)).toMatchObject({ generation: 2, previous: 1, result: "switched" });
    expect(hi()).toBe("hello 2.0\n");
    expect(await profile(["rollback"], ALICE)).toMatchObject({ generation: 1, previous: 2 });
    expect(hi()).toBe("hello 1.0\n");
    run(env, ["nix-store", "--gc"]);
    for (const g of ["profile-1-link", "profile-2-link"]) expect(valid(env, fs.readlinkSync(path.join(path.dirname(link), g))), g).toBe(true);
  });

  it("another user cannot build into it", async () => {
    const r = await cliAs(BOB, ["profile", "switch", "--user", ALICE, "--file", path.join(root, "v2", "default.nix")], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${BOB} may change only their own profile, not ${ALICE}'s`);
    expect(fs.readlinkSync(link)).toBe("profile-1-link");
  });

  it("an expression with two results is refused: a generation is one store path", async () => {
    const r = await cli(["profile", "switch", "--user", ALICE, "--file", project("two", `[ (${hello("3.0").trim()}) (${hello("3.1").trim()}) ]\n`)], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("builds 2 store paths; a profile generation is one");
    expect(generationLinks()).toEqual(["profile", "profile-1-link", "profile-2-link"]);
  });

  it("killed during the build (kill -9), the profile stays as it was and the next switch works", async () => {
    const started = path.join(root, "build-started");
    const slow = project("slow", hello("4.0", `/bin/touch ${started}; /bin/sleep 30; `));
    fs.chmodSync(root, 0o777); // the builder (run by the daemon) marks that it started
    const child = spawn(process.execPath, [path.resolve(import.meta.dirname, "../../dist/cli/main.js"), "profile", "switch", "--user", ALICE, "--file", slow], { env: { ...process.env, ...env }, detached: true, stdio: "ignore" });
    for (let i = 0; i < 200 && !fs.existsSync(started); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(started)).toBe(true);
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((r) => child.on("exit", r));
    fs.chmodSync(root, 0o755);
    expect(fs.readlinkSync(link)).toBe("profile-1-link");
    expect(generationLinks().filter((n) => n.startsWith("profile"))).toEqual(["profile", "profile-1-link", "profile-2-link"]);
    // Its lock names a dead process: taken over.
    expect(await profile(["switch", "--user", ALICE, "--file", project("v5", hello("5.0"))])).toMatchObject({ generation: 3, previous: 1 });
    expect(hi()).toBe("hello 5.0\n");
  });
}));
