import type { Command } from "commander";
import { registerChannel } from "./channels.js";
import { registerHosts } from "./hosts.js";

/**
 * The directory's admin side: `congruent directory serve`, `congruent host …`, `congruent rg …`
 * and `congruent channel …`, all talking to the directory's HTTP API.
 *
 * @example registerDirectory(program); await program.parseAsync(["node", "congruent", "host", "list", "--json"]);
 */
export function registerDirectory(program: Command): void {
  registerServe(program);
  registerHosts(program);
  registerChannel(program);
}

function registerServe(program: Command): void {
  const directory = program.command("directory").description("run the directory: the fleet's description (hosts, roles, settings, channels) and the agents' reports");
  directory
    .command("serve")
    .description("serve the directory's HTTP API (/v1) until SIGTERM or SIGINT")
    .option("--db <url>", "sqlite:PATH or postgres://USER@HOST/DB (default: $CONGRUENT_DIRECTORY_DB, else sqlite:/var/lib/congruent/directory.db)")
    .option("--listen <addr>", "HOST:PORT to listen on (default 127.0.0.1:8470)", "127.0.0.1:8470")
    .option("--admin-token-file <file>", "read the admin token from this file (default: $CONGRUENT_ADMIN_TOKEN)")
    .option("--log-level <level>", "fatal, error, warn, info or debug (debug logs every poll)", "info")
    .addHelpText(
      "after",
      `
The directory keeps hosts (roles, parameters, settings, channel, maintenance
window), resource groups, channels with immutable numbered releases, and the
reports agents send after each run. Schema migrations run at start.

Tokens. The admin token may do everything. Each host has its own token (shown
once, by 'congruent host add' or 'congruent host token'; stored only as a
SHA-256 hash); it may only read its own description and post its own reports.
If neither --admin-token-file nor $CONGRUENT_ADMIN_TOKEN gives an admin token,
one is generated and written to admin.token beside the SQLite database (mode
0600), and reused at the next start; the log names the file, never the token.

Endpoints without a token: GET /v1/health, GET /metrics (Prometheus).
Logs are JSON lines on stdout; tokens never appear in them.

Examples:
  $ congruent directory serve
  $ congruent directory serve --db sqlite:/srv/directory.db --listen 0.0.0.0:8470
  $ CONGRUENT_ADMIN_TOKEN=$(cat /etc/congruent/admin.token) \\
      congruent directory serve --db postgres://congruent@db1/congruent`,
    )
    .action(async (opts: { db?: string; listen: string; adminTokenFile?: string; logLevel: string }) => {
      const { serveDirectory } = await import("../directory/serve.js");
      await serveDirectory({ db: opts.db ?? process.env.CONGRUENT_DIRECTORY_DB, listen: opts.listen, adminTokenFile: opts.adminTokenFile, logLevel: opts.logLevel });
    });
}

