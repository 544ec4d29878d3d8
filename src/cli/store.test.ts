import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { removeTree } from "../store/nar.js";
import { addRoot } from "../store/roots.js";
import { registerStore } from "./store.js";

let tmp: string;
let state: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cli-store-"));
  state = path.join(tmp, "state");
  fs.mkdirSync(path.join(tmp, "site"));
  fs.writeFileSync(path.join(tmp, "site", "index.html"), "<h1>hi</h1>\n");
});
afterEach(() => {
  removeTree(tmp);
  process.exitCode = undefined;
});

/** Run `congruent ARGS…` in-process and return what it printed. */
async function run(...args: string[]): Promise<string> {
  const program = new Command("congruent").exitOverride();
  registerStore(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  try {
    await program.parseAsync(["node", "congruent", ...args, "--state", state]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe("congruent store / gc", () => {
  it("dry-run computes the path for another store dir and writes nothing", async () => {
    // Same tree as `nix-store --add` would see; the path is checked against Nix in test/e2e.
    const out = await run("store", "add", "--dry-run", "--store-dir", "/nix/store", path.join(tmp, "site"));
    expect(out).toMatch(/^\/nix\/store\/[0-9a-df-np-sv-z]{32}-site\n$/);
    expect(fs.existsSync(state)).toBe(false);
  });

  it("adds, lists, shows references and verifies", async () => {
    const added = (await run("store", "add", "--name", "homepage", path.join(tmp, "site"))).trim();
    expect(added).toMatch(new RegExp(`^${state}/store/[0-9a-df-np-sv-z]{32}-homepage$`));
    expect(await run("store", "add", "--dry-run", "--name", "homepage", path.join(tmp, "site"))).toBe(`${added}\n`);
    expect(await run("store", "ls")).toBe(`${added}\n`);
    expect(JSON.parse(await run("store", "ls", "--json"))).toEqual([expect.objectContaining({ path: added, references: [] })]);
    expect(JSON.parse(await run("store", "refs", added, "--json"))).toEqual({ path: added, references: [] });
    expect(await run("store", "verify")).toBe("checked 1 paths, 0 problems\n");
    expect(process.exitCode).toBeUndefined();
  });

  it("refuses to add into a store dir that is not the state's", async () => {
    await expect(run("store", "add", "--store-dir", "/nix/store", path.join(tmp, "site"))).rejects.toMatchObject({ code: "E_USAGE" });
  });

  it("gc reports what it deleted and kept", async () => {
    const kept = (await run("store", "add", "--name", "kept", path.join(tmp, "site"))).trim();
    const loose = (await run("store", "add", "--name", "loose", path.join(tmp, "site"))).trim();
    addRoot(state, "manual", kept);
    expect(await run("gc", "--dry-run")).toBe(`would delete 1 store paths, kept 1\n${loose}\n`);
    expect(JSON.parse(await run("gc", "--json"))).toEqual({ deleted: [loose], kept: [kept] });
    expect(fs.existsSync(loose)).toBe(false);
  });
});
