import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { report } from "./common.js";
import { CA_HELP, DIRECTORY_HELP, ENV_HELP } from "./directory-client.js";

/** Uploads of big inventories and a fleet report over many hosts take longer than an agent's poll. */
const MIGRATE_TIMEOUT_MS = 120_000;

/** The admin client for `--upload` and `report --directory`; the token is read before any work starts. */
async function migrateClient(opts: { directory?: string; tokenFile?: string; ca?: string }) {
  const { directoryUrl, readCa, readToken } = await import("./directory-client.js");
  const token = readToken(opts);
  const ca = readCa(opts);
  const { DirectoryClient } = await import("../directory/client.js");
  return new DirectoryClient({ url: directoryUrl(opts), token, ca, timeoutMs: MIGRATE_TIMEOUT_MS });
}

const EXAMPLE_FLOW = `
  $ congruent migrate inventory --root /mnt/web17 --out inv/web17.json
  $ congruent migrate plan --inventory inv/web17.json --out plans/web17
  $ congruent migrate diff --root /mnt/web17 --plan plans/web17
  $ congruent migrate verify --root /mnt/web17 --plan plans/web17
  $ congruent migrate report --inventories inv/ --html fleet.html
or, collected in the directory:
  $ congruent migrate inventory --root /mnt/web17 --upload --directory http://dir1:8470
  $ congruent migrate report --directory http://dir1:8470 --html fleet.html`;

/**
 * `congruent migrate inventory|plan|report|diff`: assess legacy Gentoo + Puppet hosts and
 * propose their Congruent descriptions.
 *
 * @example registerMigrate(program); await program.parseAsync(["node", "congruent", "migrate", "inventory", "--root", "/mnt/web17"]);
 */
export function registerMigrate(program: Command): void {
  const migrate = program
    .command("migrate")
    .description("assess a legacy Gentoo + Puppet host, classify every part congruent / convergent / divergent, propose its Congruent description")
    .addHelpText("after", `\nA host moves in these steps:${EXAMPLE_FLOW}\n\nEach subcommand has --help with what it reads, writes and its exit status.`);

  migrate
    .command("inventory")
    .description("read a legacy host's file tree (read-only) and classify every part of it")
    .requiredOption("--root <dir>", "the legacy host's root: a copy, a mount, or / on the host itself")
    .option("--out <file>", "also write the inventory (JSON, the input of 'migrate plan' and 'migrate report') to FILE")
    .option("--json", "print the inventory as JSON: {format, host, root, facts, items[], blockers[], summary, problems[]}")
    .option("--upload", "also send the inventory to the directory (PUT /v1/migrate/inventories/<host>, admin token), for 'migrate report --directory'")
    .option("--directory <url>", `with --upload: ${DIRECTORY_HELP}`)
    .option("--token-file <file>", "with --upload: read the admin token from this file (default: $CONGRUENT_TOKEN)")
    .option("--ca <file>", `with --upload: ${CA_HELP}`)
    .addHelpText(
      "after",
      `
Reads, below --root, and never writes there:
  /var/db/pkg/<category>/<PF>/   installed packages: CATEGORY, PF, SLOT, USE, repository,
                                 CONTENTS (each file's md5 and mtime)
  /var/lib/portage/world, /etc/portage/make.conf
  /etc/runlevels/*/, /etc/conf.d/ OpenRC services and their settings
  /opt/puppetlabs/puppet/cache/state/ (or /var/lib/puppet/state/): classes.txt,
                                 resources.txt, state.yaml
  /var/spool/cron/crontabs/*, /etc/crontab, /etc/cron.d/*
  /etc/passwd and the homes (size; virtualenvs and binaries that need system libraries)
  /etc/nginx/nginx.conf with its includes, PostgreSQL's postgresql.conf and
  postgresql.auto.conf, redis.conf, /etc/conf.d/memcached
  /var/www/*, /srv/* (applications), /usr/local, /opt (software built by hand)

A file under /etc whose md5 differs from its package's CONTENTS is hand-edited; one that no
package and no Puppet resource owns is unmanaged; both are listed. Every item (package,
service, config file, cron job, data directory, home, application, local build) is classified
congruent (green), convergent (yellow) or divergent (red), with the reason. Blockers: packages
with no Congruent role, applications writing into their install directory, home software
linked against system libraries, configuration nginx cannot parse, a tree without a Gentoo
package database (nothing about its software can be judged).

A missing or unreadable VDB entry, a malformed CONTENTS line or a config file that cannot be
parsed is reported with its file and line under "problems" (and on stderr); the rest is read.

With --upload the inventory is printed (and written to --out) as without it, then sent to the
directory, which keeps the latest inventory of each legacy host (a legacy host need not be a
host in the directory); a line on stderr says where it went.

Exit status: 0 inventory taken (also with problems: they are listed) and, with --upload,
uploaded; 1 on errors (--root is not a directory, --out cannot be written, no admin token,
the directory unreachable or refusing the inventory).

Example:
  $ congruent migrate inventory --root /mnt/web17 --out inv/web17.json
  web17 (/mnt/web17): 125 items: 94 congruent (75%), 13 convergent (10%), 18 divergent (14%); ...
  $ CONGRUENT_TOKEN=... congruent migrate inventory --root / --upload --directory http://dir1:8470
${ENV_HELP}`,
    )
    .action(async (opts: { root: string; out?: string; json?: boolean; upload?: boolean; directory?: string; tokenFile?: string; ca?: string }) => {
      const { CongruentError } = await import("../errors.js");
      if (!opts.upload && (opts.directory ?? opts.tokenFile ?? opts.ca) !== undefined) throw new CongruentError("E_USAGE", "--directory, --token-file and --ca go with --upload");
      if (!existsSync(opts.root) || !statSync(opts.root).isDirectory()) throw new CongruentError("E_MIGRATE_ROOT", `${opts.root}: not a directory (the legacy host's root)`);
      // A missing token is found before the tree is read, not after.
      const directory = opts.upload ? await migrateClient(opts) : undefined;
      const { takeInventory } = await import("../migrate/inventory.js");
      const { inventoryText } = await import("../migrate/text.js");
      const bar = process.stderr.isTTY && !opts.json ? await progressBar() : undefined;
      const inv = takeInventory({ root: opts.root, ...(bar ? { onStep: bar.update } : {}) });
      bar?.stop();
      if (opts.out) {
        try {
          // A fleet's inventories go into one directory (for `migrate report`): make it as needed.
          mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
          writeFileSync(opts.out, JSON.stringify(inv, null, 2) + "\n");
        } catch (error) {
          throw new CongruentError("E_MIGRATE_INVENTORY", `${opts.out}: cannot write the inventory: ${(error as NodeJS.ErrnoException).code ?? error}`);
        }
      }
      if (opts.json) for (const p of inv.problems) process.stderr.write(`congruent migrate: ${p.path}${p.line ? `:${p.line}` : ""}: ${p.message}\n`);
      report(opts.json, inv, () => inventoryText(inv));
      if (directory) {
        await directory.putInventory(inv);
        process.stderr.write(`congruent migrate: inventory of ${inv.host} uploaded to ${directory.url}\n`);
      }
    });

  migrate
    .command("plan")
    .description("propose the Congruent description of an assessed host, with integration-point snippets, and build it")
    .requiredOption("--inventory <file>", "an inventory written by 'migrate inventory --out' (or its --json output)")
    .requiredOption("--out <dir>", "directory to write the plan into (created; its local/<component>/ directories are replaced)")
    .option("--no-build", "write the plan without building it (exit status then says nothing about the build)")
    .option("--json", "print plan.json: {format, host, description, snippets[], leftOut[], secrets[], data[], directories[], deployments[], accounts[], review[], blockers[], profiles[], problems[], build}")
    .addHelpText(
      "after",
      `
Writes into --out:
  host.json                      the host description: roles from the services found
                                 (webgateway, postgresql<major>, redis, memcached) and the
                                 settings that differ from the components' defaults
  local/nginx/*.conf             00-http.conf (upstream, map, log_format, ... from http {}) and
                                 one file per server block, in the legacy order, includes inlined
  local/postgresql/migrated.conf every non-default setting (postgresql.conf, then .auto.conf)
  local/redis/migrated.conf      redis.conf directives the platform does not own
  local/memcached/memcached.json from /etc/conf.d/memcached
  plan.json                      all of the above, plus what was left out and why, secrets to
                                 carry over (named with file:line, values never copied), the
                                 divergent data to carry over with sizes, the blockers, and a
                                 user profile for each home that links the system's python or
                                 libc (what goes in it, by its legacy package)
  carry-over.list                the paths to copy as they are, one a line (rsync -a
                                 --files-from): data, homes, hand-copied applications, host keys,
                                 unmanaged files, and the certificates and content the migrated
                                 configuration reads or serves
  directories.list               directories the migrated configuration creates things in
                                 (the parent of a proxy_cache_path): make them on the new host
Copy local/ to the new host's /etc/local/ and host.json to the directory, then the carry-over.
Accounts to create, applications to deploy again and configuration to review are in plan.json;
/etc/passwd, /etc/group, the host name, init scripts and conf.d are never in carry-over.list.

Then builds host.json with local/ exactly as 'congruent build' does, in a throwaway state
directory (never /var/lib/congruent), judged as on the new host: as root, inside a mount
namespace where this host has the plan's carry-over applied (its certificates, served content
and cache directories at their paths, nothing else of the legacy tree); build.judged says how.

Exit status: 0 the plan was written and builds; 1 the proposed description does not build
(the plan is still written, with the error under build.error) or on errors (unreadable
inventory, --out not writable).

Example:
  $ congruent migrate plan --inventory inv/web17.json --out plans/web17
  plan for web17 written to plans/web17
    host.json: roles webgateway, postgresql15, redis, memcached; settings nginx.worker_processes=2, ...
  build: ok (8r0wd4mrf9792g3lf00ypnkdypiax6fb-system-web17)`,
    )
    .action(async (opts: { inventory: string; out: string; build: boolean; json?: boolean }) => {
      const { readInventory } = await import("../migrate/inventory.js");
      const { makePlan } = await import("../migrate/plan.js");
      const { planText } = await import("../migrate/text.js");
      const inv = await readInventory(opts.inventory);
      const plan = await makePlan({ inventory: inv, out: opts.out, build: opts.build });
      report(opts.json, plan, () => planText(plan, opts.out));
      if (!plan.build.ok && !plan.build.skipped) process.exitCode = 1;
    });

  migrate
    .command("report")
    .description("the fleet view: per host green/yellow/red shares and readiness, the most common blockers, what to migrate first")
    .option("--inventories <dir>", "directory of inventories (*.json written by 'migrate inventory --out')")
    .option("--directory <url>", "instead of --inventories: the directory's latest inventory of each host (uploaded with 'migrate inventory --upload')")
    .option("--token-file <file>", "with --directory: read the admin token from this file (default: $CONGRUENT_TOKEN)")
    .option("--ca <file>", `with --directory: ${CA_HELP}`)
    .option("--json", "print {generatedAt, hosts[], topBlockers[], totals, problems[]} as JSON")
    .option("--html <file>", "also write the report as one self-contained HTML page (inline CSS, no script, no external URL)")
    .addHelpText(
      "after",
      `
Reads every *.json in --inventories, or (--directory URL) asks the directory for the report
over the latest inventory of every host uploaded to it (GET /v1/migrate/report, admin token);
exactly one of the two. An inventory that cannot be read or is not one is named under
"problems" (and on stderr) and the rest is reported. A host's "file" is the inventory's file,
or with --directory its path in the directory's API.

Order to migrate in: hosts without blockers first (greenest, then least data to carry: the
cheapest to prove the platform on), then the rest by how few blockers hold them back.

Exit status: 0 report written; 1 when --inventories cannot be read, no inventory in it could
be read, the directory cannot be asked (unreachable, no admin token) or holds no inventory,
--html cannot be written, or not exactly one of --inventories and --directory is given.

Examples:
  $ congruent migrate report --inventories inv/ --html fleet.html
  3 hosts, 1 ready; items 78% congruent, 9% convergent, 13% divergent; 2.3 GiB of data to carry over
  $ CONGRUENT_TOKEN=... congruent migrate report --directory http://dir1:8470 --json

Environment:
  CONGRUENT_TOKEN      admin token when --token-file is not given (with --directory)
  CONGRUENT_CA         CA certificate file when --ca is not given (with --directory)`,
    )
    .action(async (opts: { inventories?: string; directory?: string; tokenFile?: string; ca?: string; json?: boolean; html?: string }) => {
      const { fleetReport, reportText } = await import("../migrate/report.js");
      const { CongruentError } = await import("../errors.js");
      if ((opts.inventories === undefined) === (opts.directory === undefined)) {
        throw new CongruentError("E_USAGE", "migrate report: give exactly one of --inventories DIR (inventory files) and --directory URL (inventories uploaded to the directory)");
      }
      if ((opts.tokenFile ?? opts.ca) !== undefined && opts.directory === undefined) throw new CongruentError("E_USAGE", "--token-file and --ca go with --directory");
      const directory = opts.directory === undefined ? undefined : await migrateClient(opts);
      const r = directory ? await directory.migrateReport() : await fleetReport(opts.inventories!);
      for (const p of r.problems) process.stderr.write(`congruent migrate: ${p.message}\n`);
      if (r.hosts.length === 0) {
        throw new CongruentError(
          "E_MIGRATE_INVENTORY",
          directory ? `${directory.url}: no inventory uploaded yet ('congruent migrate inventory --root DIR --upload')` : `${opts.inventories}: no readable inventory (*.json) in it`,
        );
      }
      if (opts.html) {
        const { reportHtml } = await import("../migrate/report-html.js");
        try {
          mkdirSync(path.dirname(path.resolve(opts.html)), { recursive: true });
          writeFileSync(opts.html, reportHtml(r));
        } catch (error) {
          throw new CongruentError("E_MIGRATE_PLAN", `${opts.html}: cannot write the HTML report: ${(error as NodeJS.ErrnoException).code ?? error}`);
        }
      }
      report(opts.json, r, () => reportText(r));
    });

  migrate
    .command("diff")
    .description("shadow mode: how the configuration the plan would build differs from what the legacy host runs now")
    .requiredOption("--root <dir>", "the legacy host's root (read again now: the host may have changed since its inventory)")
    .requiredOption("--plan <dir>", "a plan directory written by 'migrate plan'")
    .option("--json", "print {root, plan, components[], differences[], leftOut[], problems[], empty} as JSON")
    .addHelpText(
      "after",
      `
Compares, setting by setting and server block by server block, statically (nothing is
started): nginx settings, http-level directives and every server block with its directives
(order inside a block does not matter, values do); PostgreSQL's effective settings
(postgresql.conf then postgresql.auto.conf, units normalised: 16MB = 16384kB, on = true);
redis.conf directives (256mb = 268435456); memcached's options. The legacy side is read from
--root; the Congruent side is the plan's snippets and host.json over the components' defaults.
What the plan deliberately left out (platform-owned paths, secrets, ...) is listed with its
reason and not compared.

Exit status (like diff(1)): 0 no differences; 2 differences remain (listed); 1 on errors
(--root or --plan unreadable).

Example:
  $ congruent migrate diff --root /mnt/web17 --plan plans/web17
  nginx: 60 settings and directives compared, 0 differ
  ...
  no differences: for everything the plan migrated, the cut-over changes nothing the customer can see`,
    )
    .action(async (opts: { root: string; plan: string; json?: boolean }) => {
      const { shadowDiff } = await import("../migrate/shadow-diff.js");
      const { diffText } = await import("../migrate/text.js");
      const d = shadowDiff({ root: opts.root, plan: opts.plan });
      report(opts.json, d, () => diffText(d));
      process.exitCode = d.empty ? 0 : 2;
    });

  registerVerify(migrate);
}

/** `migrate verify`: the behavioural shadow check, both hosts run side by side. */
function registerVerify(migrate: Command): void {
  migrate
    .command("verify")
    .description("verify a plan by behaviour: run the legacy servers and the migrated host side by side, send both the same requests, compare every answer and setting")
    .requiredOption("--root <dir>", "the legacy host's root (read only: its servers run from it, nothing below it is written)")
    .requiredOption("--plan <dir>", "a plan directory written by 'migrate plan'")
    .option("--state <dir>", "switch the plan into this state directory and keep it (a second run reuses its database cluster); default: a throwaway one")
    .option("--timeout <seconds>", "bound on each host's whole run (default 300)")
    .option("--json", "print {root, plan, requests, components[], differences[], assumptions[], blockers[], timings, identical} as JSON")
    .addHelpText(
      "after",
      `
What it runs, each in network, mount and PID namespaces of its own (so both listen on the
legacy addresses and ports, 80 and 443 included, and nothing outlives the command):
  legacy     this host's nginx, postgres, redis-server and memcached, chrooted into the legacy
             tree (overlayfs: never written) and started as the legacy host starts them: nginx
             with Gentoo's prefix (-p /usr/) and /etc/nginx/nginx.conf, PostgreSQL with its
             postgresql.conf and postgresql.auto.conf on a fresh cluster, Redis with its
             redis.conf on an empty directory, memcached with /etc/conf.d/memcached's options
  congruent  'congruent switch' of the plan (host.json, local/) on this host as the new host
             will be: the paths of carry-over.list bound from the legacy tree, directories.list
             created, applications deployed again taken as their current files; nothing else of
             the legacy tree is visible
Upstreams (proxy_pass, fastcgi_pass, uwsgi_pass, scgi_pass and upstream blocks) are answered on
both sides by the same stubs, which echo what they receive (method, URI, headers, FastCGI
parameters), so a difference in what nginx passes upstream shows in the answer.

The requests come from the legacy configuration: every listen endpoint × every server name
(and one name no server lists, for the default server) × each location (a path for each,
regular expressions sampled), the static files and directories under each root, a missing
path, the root; GET with gzip accepted, HEAD, OPTIONS, DELETE, and for proxied and FastCGI
locations POST and a WebSocket upgrade. Each answer's status, headers (Date aside, Expires
relative to it), body and TLS certificate are compared; then PostgreSQL's pg_settings (SHOW),
Redis's CONFIG GET * and memcached's stats settings, except what the platform owns (data
directory, sockets, password). Progress goes to stderr.

Exit status (like diff(1)): 0 the two hosts answered and are set up identically; 2 differences
remain (listed), or a host did not come up; 1 on errors (not root, --root or --plan unreadable,
a sandbox that ended without an answer).

Example:
  $ congruent migrate verify --root /mnt/web17 --plan plans/web17
  nginx: 212 requests to each host, 0 answered differently
  postgresql: 348 settings compared, 0 differ
  ...
  identical: the migrated host answered all 212 requests as the legacy host did, and every setting compared is the same`,
    )
    .action(async (opts: { root: string; plan: string; state?: string; timeout?: string; json?: boolean }) => {
      const { CongruentError } = await import("../errors.js");
      const seconds = opts.timeout === undefined ? 300 : Number(opts.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new CongruentError("E_USAGE", `--timeout: expected a positive number of seconds, got "${opts.timeout}"`);
      const { verifyPlan } = await import("../migrate/verify/index.js");
      const { verifyText } = await import("../migrate/text.js");
      const onProgress = opts.json ? undefined : (side: string, text: string) => process.stderr.write(`congruent migrate verify: ${side}: ${text}\n`);
      const r = await verifyPlan({ root: opts.root, plan: opts.plan, ...(opts.state ? { state: opts.state } : {}), timeoutMs: seconds * 1000, ...(onProgress ? { onProgress } : {}) });
      report(opts.json, r, () => verifyText(r));
      process.exitCode = r.identical ? 0 : 2;
    });
}

/** A progress bar on stderr over the inventory's steps, for interactive runs only. */
async function progressBar() {
  const { SingleBar, Presets } = await import("cli-progress");
  const bar = new SingleBar({ format: "inventory {bar} {value}/{total} | {step}", stream: process.stderr, hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
  let started = false;
  return {
    update: (step: string, done: number, total: number) => {
      if (!started) {
        bar.start(total, done, { step });
        started = true;
      } else bar.update(done, { step });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
