import type { Command } from "commander";

/** A module of the CLI: the top-level commands it registers, and how to load its register function. */
export interface CommandGroup {
  commands: readonly string[];
  load: () => Promise<(program: Command) => void>;
}

/**
 * Every command group, in the order `congruent --help` lists them. The names are the ones each
 * register function adds (groups.test.ts checks that): a run loads only the module of the
 * command it runs, not the other seven and all they import.
 */
export const GROUPS: readonly CommandGroup[] = [
  { commands: ["build", "switch", "rollback", "generations", "status", "down"], load: async () => (await import("./system.js")).registerSystem },
  { commands: ["store", "gc"], load: async () => (await import("./store.js")).registerStore },
  { commands: ["manage", "agent"], load: async () => (await import("./agent.js")).registerAgent },
  { commands: ["directory", "host", "rg", "channel", "token"], load: async () => (await import("./directory.js")).registerDirectory },
  { commands: ["userscan"], load: async () => (await import("./userscan.js")).registerUserscan },
  { commands: ["vulnscan"], load: async () => (await import("./vulnscan.js")).registerVulnscan },
  { commands: ["migrate"], load: async () => (await import("./migrate.js")).registerMigrate },
  { commands: ["profile"], load: async () => (await import("./profile.js")).registerProfile },
];

/**
 * The groups a command line needs: the one group of the command it names (`congruent vulnscan
 * …`, `congruent help vulnscan`); all of them for anything that lists or suggests commands — no
 * command, a program option first (`--help`), `help` alone, or a name no group has (Commander's
 * "unknown command … Did you mean …?" needs them all); none for `--version`, which prints only that.
 *
 * @example groupsFor(["vulnscan", "--system"]) // [the vulnscan group]
 */
export function groupsFor(args: readonly string[]): readonly CommandGroup[] {
  if (args[0] === "-V" || args[0] === "--version") return [];
  const name = args[0] === "help" ? args[1] : args[0];
  const group = name === undefined ? undefined : GROUPS.find((g) => g.commands.includes(name));
  return group ? [group] : GROUPS;
}

/** Register what `args` needs on `program` (see {@link groupsFor}), in the listed order. */
export async function registerFor(program: Command, args: readonly string[]): Promise<void> {
  for (const register of await Promise.all(groupsFor(args).map((g) => g.load()))) register(program);
}
