import { spawnSync } from "node:child_process";
import path from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { GROUPS, groupsFor } from "./groups.js";

const CLI = path.resolve(import.meta.dirname, "../../dist/cli/main.js");
const congruent = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });

/** A program with every group registered, as main.ts had it before it loaded one group a run; help goes to `out.text`. */
async function everything(out: { text: string }): Promise<Command> {
  const program = new Command("congruent").enablePositionalOptions().configureOutput({ getOutHelpWidth: () => 80, writeOut: (s) => (out.text += s) });
  for (const g of GROUPS) (await g.load())(program);
  return program;
}

describe("command groups", () => {
  it("list exactly the top-level commands each register function adds, each in one group", async () => {
    for (const g of GROUPS) {
      const program = new Command("congruent");
      (await g.load())(program);
      expect(program.commands.map((c) => c.name())).toEqual(g.commands);
    }
    const all = GROUPS.flatMap((g) => g.commands);
    expect(new Set(all).size).toBe(all.length);
  });

  it("load one group for a command, all of them for what lists or suggests commands", () => {
    const vulnscan = GROUPS.find((g) => g.commands.includes("vulnscan"));
    expect(groupsFor(["vulnscan", "--system"])).toEqual([vulnscan]);
    expect(groupsFor(["help", "vulnscan"])).toEqual([vulnscan]);
    expect(groupsFor(["host", "list"])).toEqual([GROUPS.find((g) => g.commands.includes("rg"))]);
    for (const args of [[], ["--help"], ["-h"], ["help"], ["vulnscn"], ["help", "nosuch"]]) expect(groupsFor(args)).toBe(GROUPS);
    expect(groupsFor(["--version"])).toEqual([]);
  });

  it("leave every command's help as it was with all groups loaded (the built CLI)", async () => {
    const out = { text: "" };
    const program = await everything(out);
    for (const c of program.commands) {
      out.text = "";
      c.outputHelp();
      const r = congruent(c.name(), "--help");
      expect(r.status, c.name()).toBe(0);
      expect(r.stdout, c.name()).toBe(out.text);
    }
    const listed = congruent("--help").stdout;
    for (const name of GROUPS.flatMap((g) => g.commands)) expect(listed).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    const typo = congruent("vulnscn");
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain("(Did you mean vulnscan?)");
  });
});
