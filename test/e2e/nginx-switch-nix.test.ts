import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { readSystem } from "../../src/generation/metadata.js";
import { cli, cliJson, freePort, httpGet, tempDir, vhost, writeHost, writeSnippet, type SwitchOut } from "../helpers.js";
import { describeWithNix, nixEnv } from "../support/nix.js";
import { runSwitchSuite } from "./nginx-switch.case.js";

// Real Nix 2.8 with a whole store rooted in each test's own directory, never the machine's /nix.
const nix = (env: Record<string, string>, args: string[]) => execFileSync(args[0]!, args.slice(1), { env: { ...process.env, ...env } }).toString();
const valid = (env: Record<string, string>, p: string) => spawnSync("nix-store", ["--check-validity", p], { env: { ...process.env, ...env } }).status === 0;
const nixGc = (env: Record<string, string>) => nix(env, ["nix-store", "--gc"]);
const envFor = (root: string): Record<string, string> => ({ ...nixEnv(root), CONGRUENT_STORE: "nix" });

describeWithNix("the switch suite on real Nix", () => {
  runSwitchSuite({
    name: "nix",
    env: envFor,
    storeDir: (root) => nixEnv(root).NIX_STORE_DIR!,
    addUnrooted: async (source, _state, env) => nix(env, ["nix-store", "--add", source]).trim(),
    collect: async (state, env) => {
      // `congruent gc` leaves collection to Nix, whose own gc keeps every generation.
      expect(await cliJson<{ collector: string; deleted: string[] }>(["gc", "--state", state], env)).toMatchObject({ collector: "nix", deleted: [] });
      const dead = nix(env, ["nix-store", "--gc", "--print-dead"]).split("\n").filter(Boolean);
      nixGc(env);
      return dead;
    },
  });
});

describeWithNix("generations in a real Nix store (--store nix)", () => {
  const root = tempDir("switch-nix-");
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  const env = envFor(root);
  const system = path.join(env.NIX_STATE_DIR!, "profiles", "system");
  const gens: SwitchOut[] = [];
  afterAll(async () => {
    await cli(["down", "--state", state], env);
  });

  it("registers references: nix-store -qR of a generation lists its components", async () => {
    const port = await freePort();
    const host = writeHost(root, { name: "web1", roles: ["webgateway"] });
    for (const body of ["one", "two"]) {
      writeSnippet(local, "nginx", "site.conf", vhost(port, body));
      gens.push(await cliJson<SwitchOut>(["switch", "--host", host, "--local", local, "--state", state], env));
      expect((await httpGet(port)).body).toBe(`${body}\n`);
    }
    const closure = nix(env, ["nix-store", "-qR", gens[1]!.generation]).trim().split("\n");
    expect(closure).toEqual(expect.arrayContaining([gens[1]!.generation, ...Object.values(readSystem(gens[1]!.generation).components)]));
    expect(nix(env, ["nix-store", "-q", "--references", gens[1]!.generation])).toContain("-nginx-config");
  });

  it("the system profile is a Nix profile: nix-env lists its generations, nix-store --gc keeps them", async () => {
    expect(nix(env, ["nix-env", "-p", system, "--list-generations"])).toMatch(/^\s*1\s.*\n\s*2\s.*\(current\)\n$/);
    const loose = nix(env, ["nix-store", "--add", writeSnippet(root, "scratch", "loose.txt", "unrooted\n")]).trim();
    nixGc(env);
    expect(valid(env, loose)).toBe(false);
    for (const g of gens) expect(valid(env, g.generation), g.generation).toBe(true);
  });

  it("a generation removed from the profile is collected by nix-store --gc; the active one stays", async () => {
    const back = await cliJson<SwitchOut>(["rollback", "--state", state], env);
    expect(back.generation).toBe(gens[0]!.generation);
    nix(env, ["nix-env", "-p", system, "--delete-generations", "2"]);
    nixGc(env);
    expect(valid(env, gens[1]!.generation)).toBe(false);
    expect(valid(env, gens[0]!.generation)).toBe(true);
    expect((await cliJson<{ number: number }[]>(["generations", "--state", state], env)).map((g) => g.number)).toEqual([1]);
  });

  it("vulnscan --system scans the generation in the Nix store", async () => {
    const r = await cli(["vulnscan", "--system", "--state", state, "--cache-dir", path.join(root, "vulnscan"), "--json"], env);
    expect(r.stderr).not.toContain("not in the store");
    expect(r.code).toBe(3); // its paths are configuration, no versioned packages: nothing to match
  });

  it("a state directory stays with its engine", async () => {
    const r = await cli(["generations", "--state", state, "--store", "embedded"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("belongs to another store engine");
    expect((await cli(["switch", "--host", path.join(root, "host.json"), "--local", local, "--state", state, "--store", "bogus"], env)).stderr).toContain('unknown store engine "bogus"');
  });
});
