import type { Command } from "commander";
import { CongruentError } from "../errors.js";
import { report } from "./common.js";
import { client, ENV_HELP, withClient, type ClientOptions } from "./directory-client.js";
import { writeToken } from "./hosts.js";

/** `congruent token add --viewer | list | remove`: read-only tokens for the dashboard and GET on /v1. */
export function registerTokens(program: Command): void {
  const token = program
    .command("token")
    .description("read-only viewer tokens: log in to the dashboard, or GET anything on /v1, and change nothing")
    .addHelpText(
      "after",
      `
A viewer token is shown once, when it is added; the directory keeps only its
SHA-256, as it does for host tokens. Removing a token ends the dashboard
sessions opened with it at their next request.
${ENV_HELP}`,
    );

  withClient(token.command("add"))
    .description("add a viewer token and print it (shown this once)")
    .option("--viewer", "a read-only token (the only kind there is: the admin token is the directory's own)")
    .option("--name <name>", "who it is for, e.g. alice or noc (default: its id)")
    .option("--token-out <file>", "also write the token to this file (mode 0600)")
    .addHelpText("after", "\nExample:\n  $ congruent token add --viewer --name noc\n  viewer token noc (vt-1a2b3c4d) added; token (shown once): cgv_…")
    .action(async (opts: ClientOptions & { viewer?: boolean; name?: string; tokenOut?: string }) => {
      if (!opts.viewer) throw new CongruentError("E_USAGE", "token add: say --viewer (only read-only viewer tokens can be added)");
      const created = await (await client(opts)).createViewerToken(opts.name);
      await writeToken(opts.tokenOut, created.token);
      report(opts.json, created, () => `viewer token ${created.name} (${created.id}) added; token (shown once): ${created.token}`);
    });

  withClient(token.command("list"))
    .description("list viewer tokens (ids and names; never the tokens)")
    .action(async (opts: ClientOptions) => {
      const tokens = await (await client(opts)).listTokens();
      report(opts.json, tokens, () => tokens.map((t) => `${t.id}\t${t.name}\t${t.role}\tadded ${t.createdAt}`).join("\n") || "(no viewer tokens)");
    });

  withClient(token.command("remove"))
    .description("remove a viewer token by id or name; its dashboard sessions end")
    .argument("<id-or-name>", "e.g. vt-1a2b3c4d or noc")
    .action(async (idOrName: string, opts: ClientOptions) => {
      await (await client(opts)).removeToken(idOrName);
      report(opts.json, { removed: idOrName }, () => `viewer token ${idOrName} removed`);
    });
}
