import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { DirectoryClient } from "../directory/client.js";
import { CongruentError } from "../errors.js";
import { report } from "./common.js";

interface ClientOptions {
  directory?: string;
  tokenFile?: string;
  json?: boolean;
}

const DIRECTORY_HELP = "directory URL (default: $CONGRUENT_DIRECTORY, else http://127.0.0.1:8470)";
const TOKEN_HELP = "read the admin token from this file (default: $CONGRUENT_TOKEN)";

const ENV_HELP = `
Environment:
  CONGRUENT_DIRECTORY  directory URL when --directory is not given
  CONGRUENT_TOKEN      admin token when --token-file is not given`;

/** Heavy modules load only when a command runs: the client is small, but still lazy. */
async function client(opts: ClientOptions): Promise<DirectoryClient> {
  const { DirectoryClient } = await import("../directory/client.js");
  const url = opts.directory ?? process.env.CONGRUENT_DIRECTORY ?? "http://127.0.0.1:8470";
  let token = process.env.CONGRUENT_TOKEN;
  if (opts.tokenFile) token = readFileSync(opts.tokenFile, "utf8").trim();
  if (!token) throw new CongruentError("E_USAGE", "no token: pass --token-file FILE or set CONGRUENT_TOKEN");
  return new DirectoryClient({ url, token });
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `comp.setting=value` → ["comp", "setting", typed value]: true/false and numbers keep their type. */
export function parseSetting(arg: string): [string, string, string | number | boolean] {
  const m = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(arg);
  if (!m) throw new CongruentError("E_USAGE", `--set ${arg}: expected component.setting=value, e.g. nginx.worker_processes=4`);
  const raw = m[3]!;
  const value = raw === "true" ? true : raw === "false" ? false : raw !== "" && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  return [m[1]!, m[2]!, value];
}

function parseParam(arg: string): [string, string] {
  const i = arg.indexOf("=");
  if (i <= 0) throw new CongruentError("E_USAGE", `--param ${arg}: expected key=value`);
  return [arg.slice(0, i), arg.slice(i + 1)];
}

function applySettings(settings: Record<string, Record<string, string | number | boolean>>, set: string[], unset: string[] = []) {
  const out = structuredClone(settings);
  for (const s of set) {
    const [component, setting, value] = parseSetting(s);
    (out[component] ??= {})[setting] = value;
  }
  for (const u of unset) {
    const [component, setting] = u.split(/\.(.*)/s);
    if (!component || !setting) throw new CongruentError("E_USAGE", `--unset ${u}: expected component.setting`);
    delete out[component]?.[setting];
    if (out[component] && Object.keys(out[component]).length === 0) delete out[component];
  }
  return out;
}

function window(opts: { window?: string | boolean; timezone?: string }) {
  if (typeof opts.window !== "string") return undefined;
  return { schedule: opts.window, timezone: opts.timezone ?? "UTC" };
}

async function writeToken(file: string | undefined, token: string): Promise<void> {
  if (!file) return;
  const { writeFileSync } = await import("node:fs");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
}

const fmtSettings = (s: Record<string, Record<string, unknown>>) =>
  Object.entries(s).flatMap(([c, v]) => Object.entries(v).map(([k, x]) => `  ${c}.${k} = ${JSON.stringify(x)}`));

/**
 * The directory's admin side: `congruent directory serve`, `congruent host …`, `congruent rg …`
 * and `congruent channel …`, all talking to the directory's HTTP API.
 *
 * @example registerDirectory(program); await program.parseAsync(["node", "congruent", "host", "list", "--json"]);
 */
export function registerDirectory(program: Command): void {
  registerServe(program);
  registerHost(program);
  registerRg(program);
  registerChannel(program);
}

const withClient = (cmd: Command) => cmd.option("--directory <url>", DIRECTORY_HELP).option("--token-file <file>", TOKEN_HELP).option("--json", "print the API's JSON answer");

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

function registerHost(program: Command): void {
  const host = program.command("host").description("add, change, show and remove hosts in the directory").addHelpText("after", ENV_HELP);

  withClient(host.command("add"))
    .description("add a host and print its token (shown this once)")
    .argument("<name>", "host name: lower-case letters, digits and '-'")
    .requiredOption("--rg <group>", "resource group (create it with 'congruent rg add')")
    .option("--role <role>", "a role of the host; repeat for several", collect, [])
    .option("--param <key=value>", "a parameter, e.g. fqdn=web1.example.net; repeat for several", collect, [])
    .option("--set <component.setting=value>", "a setting of the host, overriding its release's role defaults; repeat", collect, [])
    .option("--channel <channel>", "the channel whose releases the host follows")
    .option("--window <schedule>", "weekly maintenance window for restarts, e.g. 'Sun 02:00-04:00' or 'daily 01:00-02:00'")
    .option("--timezone <tz>", "time zone of the window (IANA, e.g. Europe/Berlin; default UTC)")
    .option("--token-out <file>", "also write the token to this file (mode 0600), for 'congruent manage --token-file'")
    .addHelpText(
      "after",
      `
Values given with --set keep their type: true/false are booleans, numbers are
numbers, anything else a string. A restart-only setting change waits for the
maintenance window on the host (reported as deferred, shown by 'host show').

Examples:
  $ congruent host add web1 --rg acme --role webgateway --param fqdn=web1.acme.example \\
      --set nginx.worker_processes=4 --channel stable --window "Sun 02:00-04:00" --timezone Europe/Berlin
  host web1 added; token (shown once): cgt_…
  $ congruent host add db1 --rg acme --role postgresql --channel stable --token-out /tmp/db1.token`,
    )
    .action(async (name: string, opts: ClientOptions & { rg: string; role: string[]; param: string[]; set: string[]; channel?: string; window?: string; timezone?: string; tokenOut?: string }) => {
      const d = await client(opts);
      const created = await d.createHost({
        name,
        resourceGroup: opts.rg,
        roles: opts.role,
        parameters: Object.fromEntries(opts.param.map(parseParam)),
        settings: applySettings({}, opts.set),
        channel: opts.channel,
        maintenanceWindow: window(opts),
      });
      await writeToken(opts.tokenOut, created.token);
      report(opts.json, created, () => `host ${name} added; token (shown once): ${created.token}`);
    });

  withClient(host.command("set"))
    .description("change a host: only what the options name changes")
    .argument("<name>", "host name")
    .option("--rg <group>", "move to another resource group")
    .option("--role <role>", "replace the roles with these; repeat for several", collect, [])
    .option("--param <key=value>", "add or change a parameter; repeat", collect, [])
    .option("--unset-param <key>", "remove a parameter; repeat", collect, [])
    .option("--set <component.setting=value>", "add or change a setting; repeat", collect, [])
    .option("--unset <component.setting>", "remove a setting (the release's default applies again); repeat", collect, [])
    .option("--channel <channel>", "follow another channel")
    .option("--no-channel", "follow no channel")
    .option("--window <schedule>", "maintenance window, e.g. 'Sun 02:00-04:00'")
    .option("--no-window", "no maintenance window (restarts wait for --force)")
    .option("--timezone <tz>", "time zone of the window (with --window)")
    .addHelpText(
      "after",
      `
Examples:
  $ congruent host set web1 --set nginx.worker_processes=8 --unset nginx.gzip
  $ congruent host set web1 --channel beta --window "daily 03:00-04:00" --timezone Europe/Berlin
  $ congruent host set web1 --no-channel`,
    )
    .action(
      async (
        name: string,
        opts: ClientOptions & { rg?: string; role: string[]; param: string[]; unsetParam: string[]; set: string[]; unset: string[]; channel?: string | boolean; window?: string | boolean; timezone?: string },
      ) => {
        const d = await client(opts);
        const patch: Parameters<DirectoryClient["updateHost"]>[1] = {};
        if (opts.rg) patch.resourceGroup = opts.rg;
        if (opts.role.length) patch.roles = opts.role;
        if (opts.param.length || opts.unsetParam.length || opts.set.length || opts.unset.length) {
          const { host } = await d.getHost(name);
          if (opts.param.length || opts.unsetParam.length) {
            const parameters = { ...host.parameters, ...Object.fromEntries(opts.param.map(parseParam)) };
            for (const k of opts.unsetParam) delete parameters[k];
            patch.parameters = parameters;
          }
          if (opts.set.length || opts.unset.length) patch.settings = applySettings(host.settings, opts.set, opts.unset);
        }
        if (typeof opts.channel === "string") patch.channel = opts.channel;
        else if (opts.channel === false) patch.channel = null;
        if (typeof opts.window === "string") patch.maintenanceWindow = window(opts)!;
        else if (opts.window === false) patch.maintenanceWindow = null;
        if (Object.keys(patch).length === 0) throw new CongruentError("E_USAGE", "host set: nothing to change (see --help)");
        const updated = await d.updateHost(name, patch);
        report(opts.json, updated, () => `host ${name} updated`);
      },
    );

  withClient(host.command("show"))
    .description("show a host, its last report and the restarts waiting for its maintenance window")
    .argument("<name>", "host name")
    .addHelpText("after", "\nExample:\n  $ congruent host show db1\n  …\n  pending (waits for Sun 02:00-04:00 Europe/Berlin):\n    restart postgresql (shared_buffers)")
    .action(async (name: string, opts: ClientOptions) => {
      const detail = await (await client(opts)).getHost(name);
      report(opts.json, detail, () => {
        const h = detail.host;
        const r = detail.lastReport;
        const w = h.maintenanceWindow;
        return [
          `host ${h.name}  (resource group ${h.resourceGroup})`,
          `  roles: ${h.roles.join(", ") || "(none)"}`,
          `  channel: ${h.channel ?? "(none)"}`,
          `  window: ${w ? `${w.schedule} ${w.timezone}` : "(none)"}`,
          ...Object.entries(h.parameters).map(([k, v]) => `  param ${k} = ${v}`),
          ...fmtSettings(h.settings),
          r
            ? `last report: ${r.result} at ${r.receivedAt}${r.release ? ` (release ${r.release.channel}#${r.release.number})` : ""}${r.error ? `: ${r.error}` : ""}`
            : "last report: (none)",
          detail.pending.length
            ? [`pending (waits for ${w ? `${w.schedule} ${w.timezone}` : "--force"}):`, ...detail.pending.map((p) => `  ${p.action} ${p.service} (${p.why.join(", ")})`)].join("\n")
            : "pending: nothing",
        ].join("\n");
      });
    });

  withClient(host.command("list"))
    .description("list hosts, with their last result")
    .option("--rg <group>", "only this resource group")
    .option("--channel <channel>", "only hosts following this channel")
    .addHelpText("after", "\nExample:\n  $ congruent host list --rg acme --channel stable")
    .action(async (opts: ClientOptions & { rg?: string; channel?: string }) => {
      const hosts = await (await client(opts)).listHosts({ resourceGroup: opts.rg, channel: opts.channel });
      report(opts.json, hosts, () => hosts.map((h) => `${h.name}\t${h.resourceGroup}\t${h.channel ?? "-"}\t${h.roles.join(",")}`).join("\n") || "(no hosts)");
    });

  withClient(host.command("remove"))
    .description("remove a host and its reports; its token stops working")
    .argument("<name>", "host name")
    .action(async (name: string, opts: ClientOptions) => {
      await (await client(opts)).deleteHost(name);
      report(opts.json, { removed: name }, () => `host ${name} removed`);
    });

  withClient(host.command("token"))
    .description("give a host a new token (the old one stops working) and print it once")
    .argument("<name>", "host name")
    .option("--token-out <file>", "also write the token to this file (mode 0600)")
    .action(async (name: string, opts: ClientOptions & { tokenOut?: string }) => {
      const created = await (await client(opts)).rotateToken(name);
      await writeToken(opts.tokenOut, created.token);
      report(opts.json, created, () => `host ${name}: new token (shown once): ${created.token}`);
    });
}

function registerRg(program: Command): void {
  const rg = program.command("rg").description("resource groups: the customers or tenants hosts belong to").addHelpText("after", ENV_HELP);
  withClient(rg.command("add"))
    .description("add a resource group")
    .argument("<name>", "lower-case letters, digits and '-'")
    .option("--description <text>", "free text, e.g. the customer's name")
    .addHelpText("after", '\nExample:\n  $ congruent rg add acme --description "ACME Ltd"')
    .action(async (name: string, opts: ClientOptions & { description?: string }) => {
      const created = await (await client(opts)).createResourceGroup({ name, description: opts.description });
      report(opts.json, created, () => `resource group ${name} added`);
    });
  withClient(rg.command("list"))
    .description("list resource groups")
    .action(async (opts: ClientOptions) => {
      const groups = await (await client(opts)).listResourceGroups();
      report(opts.json, groups, () => groups.map((g) => `${g.name}${g.description ? `\t${g.description}` : ""}`).join("\n") || "(no resource groups)");
    });
}

function registerChannel(program: Command): void {
  const channel = program
    .command("channel")
    .description("channels: immutable numbered releases that reach a canary share of hosts first")
    .addHelpText(
      "after",
      `
A release carries platform-wide defaults per role (defaults.<role>.<component>.<setting>)
and a version label. Promoting it starts a rollout: canary hosts (those whose
sha256(name) mod 100 < canary share; at least one) get it at once, the others
once every canary has reported success. A canary reporting failure halts the
rollout and everyone stays on the previous release. 'rollback' moves the channel
to an older release on purpose; agents accept that (they refuse an older
release otherwise).
${ENV_HELP}`,
    );

  withClient(channel.command("create"))
    .description("create a channel")
    .argument("<name>", "e.g. stable, beta")
    .option("--canary-share <percent>", "share of hosts that get a new release first (1-100, default 10)", (v) => Number(v))
    .option("--description <text>", "free text")
    .addHelpText("after", "\nExample:\n  $ congruent channel create stable --canary-share 10")
    .action(async (name: string, opts: ClientOptions & { canaryShare?: number; description?: string }) => {
      const created = await (await client(opts)).createChannel({ name, canaryShare: opts.canaryShare, description: opts.description });
      report(opts.json, created, () => `channel ${name} created (canary share ${created.canaryShare}%)`);
    });

  withClient(channel.command("release"))
    .description("add an immutable release to a channel (it is not promoted yet)")
    .argument("<channel>", "channel name")
    .requiredOption("--version <label>", "version label, e.g. 2025.03")
    .option("--defaults <file.json>", 'role defaults, e.g. {"webgateway": {"nginx": {"worker_processes": 4}}}')
    .addHelpText("after", "\nExample:\n  $ congruent channel release stable --version 2025.03 --defaults platform-2025.03.json\n  release stable#3 (2025.03) added; promote it with 'congruent channel promote stable 3'")
    .action(async (name: string, opts: ClientOptions & { version: string; defaults?: string }) => {
      let defaults: unknown = {};
      if (opts.defaults) {
        try {
          defaults = JSON.parse(readFileSync(opts.defaults, "utf8"));
        } catch (error) {
          throw new CongruentError("E_USAGE", `--defaults ${opts.defaults}: ${(error as Error).message}`);
        }
      }
      const release = await (await client(opts)).createRelease(name, { version: opts.version, defaults: defaults as Record<string, never> });
      report(opts.json, release, () => `release ${name}#${release.number} (${release.version}) added; promote it with 'congruent channel promote ${name} ${release.number}'`);
    });

  withClient(channel.command("promote"))
    .description("start rolling a release out: canary hosts first, then everyone")
    .argument("<channel>", "channel name")
    .argument("<number>", "release number", (v) => Number(v))
    .option("--canary-share <percent>", "this rollout's canary share (default: the channel's); 100 = everyone at once", (v) => Number(v))
    .addHelpText("after", "\nExample:\n  $ congruent channel promote stable 3\n  $ congruent channel status stable")
    .action(async (name: string, number: number, opts: ClientOptions & { canaryShare?: number }) => {
      const status = await (await client(opts)).promote(name, { number, canaryShare: opts.canaryShare });
      report(opts.json, status, () => formatStatus(status));
    });

  withClient(channel.command("rollback"))
    .description("move a channel back to an older release, on purpose, for every host")
    .argument("<channel>", "channel name")
    .argument("<number>", "an older release number", (v) => Number(v))
    .addHelpText("after", "\nExample:\n  $ congruent channel rollback stable 2")
    .action(async (name: string, number: number, opts: ClientOptions) => {
      const status = await (await client(opts)).rollback(name, { number });
      report(opts.json, status, () => formatStatus(status));
    });

  withClient(channel.command("list"))
    .description("list channels and where their releases stand")
    .action(async (opts: ClientOptions) => {
      const channels = await (await client(opts)).listChannels();
      report(opts.json, channels, () =>
        channels.map((c) => `${c.name}\tcurrent ${c.current ?? "-"}\tprevious ${c.previous ?? "-"}\t${c.rolloutState ?? "no rollout"}${c.rolledBack ? "\trolled back" : ""}`).join("\n") || "(no channels)",
      );
    });

  withClient(channel.command("status"))
    .description("show where a channel's rollout stands, host by host")
    .argument("<channel>", "channel name")
    .addHelpText("after", "\nExample:\n  $ congruent channel status stable\n  channel stable: current 3, previous 2; rollout of 3: canary (1/2 canaries succeeded)")
    .action(async (name: string, opts: ClientOptions) => {
      const status = await (await client(opts)).channelStatus(name);
      report(opts.json, status, () => formatStatus(status));
    });
}

function formatStatus(s: Awaited<ReturnType<DirectoryClient["channelStatus"]>>): string {
  const r = s.rollout;
  const lines = [
    `channel ${s.channel}: current ${s.current ?? "-"}, previous ${s.previous ?? "-"}` +
      (r ? `; rollout of ${r.release}: ${r.state} (${r.succeeded.length}/${r.canaryHosts.length} canaries succeeded)` : "; no rollout"),
    ...(r?.failed ?? []).map((f) => `  failed on ${f.host}: ${f.error}`),
    ...s.hosts.map((h) => `  ${h.name}\truns ${h.release ?? "-"}\tgets ${h.target ?? "-"}\t${h.lastResult ?? "never reported"}${r?.canaryHosts.includes(h.name) ? "\tcanary" : ""}`),
  ];
  return lines.join("\n");
}
