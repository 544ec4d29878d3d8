import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { account } from "../../src/profiles/account.js";
import { cli, tempDir, type CliResult } from "../helpers.js";

/** A store engine under the profile suite, set up in the test's own directory. */
export interface ProfileEngine {
  name: string;
  setup(root: string): Promise<EngineUnderTest>;
}

export interface EngineUnderTest {
  /** The CLI's environment: CONGRUENT_STORE, where the store is, CONGRUENT_STATE. */
  env: Record<string, string>;
  /** The default profiles directory of this engine. */
  profilesDir: string;
  storeDir: string;
  /** Add a directory to the store (as root); returns its store path. */
  add(source: string): Promise<string>;
  /** Collect garbage as this engine does. */
  collect(): Promise<void>;
  valid(storePath: string): boolean;
  stop(): Promise<void>;
}

/** `describe`, or a skipped one saying why unless root runs it: runuser and chown to other users need root (CI runs as root). */
export function describeAsRoot(title: string, fn: () => void): void {
  if (process.getuid?.() === 0) describe(title, fn);
  else describe.skip(`${title} (skipped: needs root, to act for and as other users)`, fn);
}

/** Two system users every Debian has (base-passwd): the test creates no account. */
export const ALICE = "www-data";
export const BOB = "nobody";

export interface ProfileOut {
  user: string;
  profile: string;
  generation: number;
  path: string;
  previous: number | null;
  result: string;
}

/** `congruent …` as `user` (runuser), with `env`. */
export function cliAs(user: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return new Promise((resolve) => {
    const child = spawn("runuser", ["-u", user, "--", "env", ...vars, process.execPath, path.resolve(import.meta.dirname, "../../dist/cli/main.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A package-like store path: `bin/<name>` printing `<text>`, plus `extra` files. */
function pkg(root: string, name: string, text: string, extra: Record<string, string> = {}): string {
  const dir = path.join(root, "src", name);
  fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
  fs.writeFileSync(path.join(dir, "bin", name.replace(/-[\d.]+$/, "")), `#!/bin/sh\necho ${text}\n`, { mode: 0o755 });
  for (const [f, t] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), t);
  }
  return dir;
}

/**
 * Per-user profiles from store paths (`--paths`), the same on every engine: Nix's layout owned
 * by the user, several paths merged into one, rollback, removal, gc, and another user refused.
 *
 * @example runProfileSuite({ name: "embedded", setup: async (root) => … })
 */
export function runProfileSuite(engine: ProfileEngine): void {
  describeAsRoot(`per-user profiles from store paths (store: ${engine.name})`, () => {
    const root = tempDir("profiles-");
    fs.chmodSync(root, 0o755); // the users read their lists and run the CLI from here
    let e: EngineUnderTest;
    let hello: string;
    let openssl: string;
    let jq: string;
    const list = (file: string, ...paths: string[]) => (fs.writeFileSync(path.join(root, file), `# one a line\n${paths.join("\n")}\n`), path.join(root, file));
    const json = async <T>(r: Promise<CliResult>): Promise<T> => {
      const out = await r;
      if (out.code !== 0) throw new Error(`exit ${out.code}: ${out.stderr}`);
      return JSON.parse(out.stdout) as T;
    };
    const profile = (args: string[], user?: string) => (user ? cliAs(user, ["profile", ...args, "--json"], e.env) : cli(["profile", ...args, "--json"], e.env));
    const link = () => path.join(e.profilesDir, "per-user", ALICE, "profile");

    beforeAll(async () => {
      e = await engine.setup(root);
      hello = await e.add(pkg(root, "hello-2.12", "hello"));
      openssl = await e.add(pkg(root, "openssl-3.0.6", "openssl", { "lib/libssl.so.3": "ELF" }));
      jq = await e.add(pkg(root, "jq-1.6", "jq"));
    });
    afterAll(async () => {
      await e.stop();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it("root installs several store paths for a user: one merged path, Nix's layout, owned by the user", async () => {
      const out = await json<ProfileOut>(profile(["switch", "--user", ALICE, "--paths", list("two.txt", hello, openssl)]));
      expect(out).toMatchObject({ user: ALICE, profile: link(), generation: 1, previous: null, result: "switched" });
      expect(fs.readlinkSync(link())).toBe("profile-1-link");
      expect(fs.readlinkSync(path.join(path.dirname(link()), "profile-1-link"))).toBe(out.path);
      expect(path.dirname(out.path)).toBe(e.storeDir);
      const { uid } = account(ALICE);
      for (const f of [path.dirname(link()), link(), `${path.dirname(link())}/profile-1-link`]) expect(fs.lstatSync(f).uid, f).toBe(uid);
      expect(fs.readlinkSync(path.join(out.path, "bin", "hello"))).toBe(path.join(hello, "bin", "hello"));
      expect(fs.existsSync(path.join(link(), "lib", "libssl.so.3"))).toBe(true);
      // The same paths again are no new generation.
      expect(await json<ProfileOut>(profile(["switch", "--user", ALICE, "--paths", list("same.txt", openssl, hello)]))).toMatchObject({ generation: 1, result: "unchanged" });
    });

    it("the user switches, lists and rolls back their own profile", async () => {
      const out = await json<ProfileOut>(profile(["switch", "--paths", list("one.txt", jq)], ALICE));
      expect(out).toMatchObject({ user: ALICE, generation: 2, path: jq, previous: 1, result: "switched" });
      const gens = await json<{ number: number; path: string; current: boolean }[]>(profile(["list"], ALICE));
      expect(gens.map((g) => [g.number, g.current])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(await json<ProfileOut>(profile(["rollback"], ALICE))).toMatchObject({ generation: 1, previous: 2 });
      expect(fs.readlinkSync(link())).toBe("profile-1-link");
    });

    it("another user cannot touch it (only list it)", async () => {
      for (const args of [["switch", "--user", ALICE, "--paths", list("bob.txt", jq)], ["rollback", "--user", ALICE], ["remove", "--user", ALICE, "--generation", "2"]]) {
        const r = await profile(args, BOB);
        expect(r.code, args.join(" ")).toBe(1);
        expect(r.stderr).toContain(`${BOB} may change only their own profile, not ${ALICE}'s`);
      }
      expect(fs.readlinkSync(link())).toBe("profile-1-link");
      expect(fs.existsSync(path.join(path.dirname(link()), "profile-2-link"))).toBe(true);
      expect((await json<unknown[]>(profile(["list", "--user", ALICE], BOB))).length).toBe(2);
    });

    it("every generation is a gc root; a removed one is collected", async () => {
      await e.collect();
      for (const p of [hello, openssl, jq]) expect(e.valid(p), p).toBe(true);
      const current = await profile(["remove", "--generation", "1"], ALICE);
      expect(current.code).toBe(1);
      expect(current.stderr).toContain("generation 1 is the current one");
      expect(await json(profile(["remove", "--generation", "2"], ALICE))).toMatchObject({ removed: 2, path: jq });
      await e.collect();
      expect(e.valid(jq)).toBe(false);
      expect(e.valid(hello) && e.valid(openssl)).toBe(true);
    });

    it("vulnscan --profile scans a user's profile, userscan sees a home's link to it", async () => {
      const cache = path.join(root, "vulnscan");
      const fixtures = path.resolve(import.meta.dirname, "../fixtures/nvd");
      expect((await cli(["vulnscan", "update", "--from", fixtures, "--cache-dir", cache], e.env)).code).toBe(0);
      const scan = await cli(["vulnscan", "--profile", `per-user/${ALICE}/profile`, "--cache-dir", cache, "--json"], e.env);
      expect(scan.code, scan.stderr).toBe(2);
      expect(JSON.parse(scan.stdout)).toEqual([expect.objectContaining({ name: "openssl-3.0.6", path: openssl, affected_by: ["CVE-2022-3602"] })]);

      const home = path.join(root, "home");
      fs.mkdirSync(home);
      fs.symlinkSync(link(), path.join(home, ".nix-profile"));
      const found = await cli(["userscan", "--list", "--store-dir", e.storeDir, home], e.env);
      expect(found.code, found.stderr).toBe(0);
      expect(found.stdout).toContain(`${path.join(home, ".nix-profile")}: ${(await json<{ path: string }[]>(profile(["list"], ALICE)))[0]!.path}`);
    });

    it("bad input is refused naming file and line; a file two paths provide is a conflict", async () => {
      const bad = await profile(["switch", "--user", ALICE, "--paths", list("bad.txt", hello, "/etc/passwd")]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`${path.join(root, "bad.txt")}:3: /etc/passwd is not a valid path`);
      const twin = await e.add(pkg(path.join(root, "twin"), "hello-2.13", "other hello"));
      const clash = await profile(["switch", "--user", ALICE, "--paths", list("clash.txt", hello, twin)]);
      expect(clash.code).toBe(1);
      expect(clash.stderr).toContain("both provide bin/hello");
      expect((await profile(["switch", "--user", "no-such-user-here", "--paths", list("x.txt", hello)])).stderr).toContain("no such user: no-such-user-here");
      expect(fs.readlinkSync(link())).toBe("profile-1-link");
    });

    it("a profiles directory elsewhere is rooted too", async () => {
      const elsewhere = path.join(root, "elsewhere");
      expect(await e.add(path.join(root, "src", "jq-1.6"))).toBe(jq); // collected above: back under its name
      const out = await json<ProfileOut>(profile(["switch", "--user", ALICE, "--profiles-dir", elsewhere, "--paths", list("jq.txt", jq)]));
      expect(out.profile).toBe(path.join(elsewhere, "per-user", ALICE, "profile"));
      await e.collect();
      expect(e.valid(jq)).toBe(true);
      fs.rmSync(path.join(elsewhere, "per-user", ALICE), { recursive: true });
      await e.collect();
      expect(e.valid(jq)).toBe(false);
    });
  });
}
