import type { Command } from "commander";
import { defaultReportRate } from "../directory/rate-limit.js";
import { defaultRetention } from "../directory/storage.js";
import { CongruentError } from "../errors.js";
import { registerChannel } from "./channels.js";
import { registerHosts } from "./hosts.js";
import { registerTokens } from "./tokens.js";

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
  registerTokens(program);
}

interface ServeCliOptions {
  db?: string;
  listen: string;
  adminTokenFile?: string;
  logLevel: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsPoll?: number;
  reportBurst?: number;
  reportRate?: number;
  reportCap?: number;
  reportCapBytes?: number;
  staleAfter?: number;
}

const positive = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CongruentError("E_USAGE", `${flag} takes a positive number, got "${value}"`);
  return n;
};

function registerServe(program: Command): void {
  const directory = program.command("directory").description("run the directory: the fleet's description (hosts, roles, settings, channels) and the agents' reports");
  directory
    .command("serve")
    .description("serve the directory's HTTP API (/v1) until SIGTERM or SIGINT")
    .option("--db <url>", "sqlite:PATH or postgres://USER@HOST/DB (default: $CONGRUENT_DIRECTORY_DB, else sqlite:/var/lib/congruent/directory.db)")
    .option("--listen <addr>", "HOST:PORT to listen on (default 127.0.0.1:8470)", "127.0.0.1:8470")
    .option("--admin-token-file <file>", "read the admin token from this file (default: $CONGRUENT_ADMIN_TOKEN); at least 128 bits")
    .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM, the chain after it); a renewed file is served without a restart")
    .option("--tls-key <file>", "the certificate's private key (PEM)")
    .option("--tls-poll <seconds>", "how often the certificate files are checked for a renewal (default 5)", positive("--tls-poll"))
    .option("--report-burst <n>", `reports a host may send at once (default ${defaultReportRate.burst})`, positive("--report-burst"))
    .option("--report-rate <n>", `reports per minute a host may send after its burst (default ${defaultReportRate.perMinute})`, positive("--report-rate"))
    .option("--report-cap <n>", `reports kept per host, failures included (default ${defaultRetention.maxReports})`, positive("--report-cap"))
    .option("--report-cap-bytes <n>", `bytes of reports kept per host, failures included (default ${defaultRetention.maxBytes})`, positive("--report-cap-bytes"))
    .option("--log-level <level>", "fatal, error, warn, info or debug (debug logs every poll)", "info")
    .option("--stale-after <minutes>", "the dashboard shows a host stale after this long without a report (default 20: the agent's 10-minute timer, its splay, a grace)", positive("--stale-after"))
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

An admin token of fewer than 128 bits (22 base64url characters, 32 hex
digits) is refused. The SQLite database, its WAL and admin.token are 0600.

TLS. Beyond loopback, serve with --tls-cert and --tls-key: tokens and host
descriptions cross the network (a warning says so otherwise). The files are
checked every --tls-poll seconds and on SIGHUP; a renewed certificate and key are served to
new connections without a restart (a pair that does not match is logged and
the current one kept). Agents and admin commands trust a private CA with
--ca FILE.

Abuse by a host. Each host may send --report-burst reports at once, then
--report-rate a minute (beyond: HTTP 429, Retry-After; agents keep the report
for their next run); it keeps its last 100 reports and its failures of the
last 30 days, at most --report-cap reports and --report-cap-bytes bytes, the
newest first. One host's reports never push out another's.

Viewer tokens ('congruent token add --viewer') may GET anything on /v1 and log
in to the dashboard, and change nothing.

Dashboard: the same address serves the fleet dashboard at / (log in with the
admin token or a viewer token; a session cookie, HttpOnly, SameSite=Strict,
Secure under TLS). A host is shown stale after --stale-after minutes without
a report.

Endpoints without a token: GET /v1/health, GET /metrics (Prometheus).
Logs are JSON lines on stdout; tokens never appear in them.

Examples:
  $ congruent directory serve
  $ congruent directory serve --db sqlite:/srv/directory.db --listen 0.0.0.0:8470 \\
      --tls-cert /etc/congruent/tls/directory.crt --tls-key /etc/congruent/tls/directory.key
  $ CONGRUENT_ADMIN_TOKEN=$(cat /etc/congruent/admin.token) \\
      congruent directory serve --db postgres://congruent@db1/congruent`,
    )
    .action(async (opts: ServeCliOptions) => {
      if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new CongruentError("E_USAGE", "--tls-cert and --tls-key go together");
      const { serveDirectory } = await import("../directory/serve.js");
      await serveDirectory({
        db: opts.db ?? process.env.CONGRUENT_DIRECTORY_DB,
        listen: opts.listen,
        adminTokenFile: opts.adminTokenFile,
        logLevel: opts.logLevel,
        tls: opts.tlsCert && opts.tlsKey ? { cert: opts.tlsCert, key: opts.tlsKey } : undefined,
        tlsPollMs: opts.tlsPoll === undefined ? undefined : opts.tlsPoll * 1000,
        staleAfterMs: (opts.staleAfter ?? 20) * 60_000,
        reportRate: { burst: opts.reportBurst ?? defaultReportRate.burst, perMinute: opts.reportRate ?? defaultReportRate.perMinute },
        retention: { ...defaultRetention, maxReports: opts.reportCap ?? defaultRetention.maxReports, maxBytes: opts.reportCapBytes ?? defaultRetention.maxBytes },
      });
    });
}

