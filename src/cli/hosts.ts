import type { Command } from "commander";
import type { StoredReport } from "../directory/api.js";
import type { DirectoryClient } from "../directory/client.js";
import type { HostSchemaDescription, SettingDescription } from "../schema/describe.js";
import { CongruentError } from "../errors.js";
import { report } from "./common.js";
import { printable } from "./printable.js";
import { client, collect, ENV_HELP, withClient, type ClientOptions } from "./directory-client.js";

/** `comp.setting=value` → component, setting and the value as typed. */
function splitSetting(arg: string): [string, string, string] {
  const m = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(arg);
  if (!m) throw new CongruentError("E_USAGE", `--set ${arg}: expected component.setting=value, e.g. nginx.worker_processes=4`);
  return [m[1]!, m[2]!, m[3]!];
}

function parseParam(arg: string): [string, string] {
  const i = arg.indexOf("=");
  if (i <= 0) throw new CongruentError("E_USAGE", `--param ${arg}: expected key=value`);
  return [arg.slice(0, i), arg.slice(i + 1)];
}

/** The settings with `--set` values added (typed as the host schema types each setting) and `--unset` ones removed. */
async function applySettings(settings: Record<string, Record<string, string | number | boolean>>, set: string[], unset: string[] = []) {
  const { typeSetting } = await import("../schema/host.js");
  const out = structuredClone(settings);
  for (const s of set) {
    const [component, setting, raw] = splitSetting(s);
    (out[component] ??= {})[setting] = typeSetting(component, setting, raw);
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

/** The token into `file`, mode 0600 before a byte is written, also over an existing (wider) file. */
export async function writeToken(file: string | undefined, token: string): Promise<void> {
  if (!file) return;
  const { closeSync, fchmodSync, openSync, writeSync } = await import("node:fs");
  const fd = openSync(file, "w", 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
}

const fmtSettings = (s: Record<string, Record<string, unknown>>) =>
  Object.entries(s).flatMap(([c, v]) => Object.entries(v).map(([k, x]) => `  ${c}.${k} = ${printable(JSON.stringify(x))}`));

const windowText = (w: { schedule: string; timezone: string } | undefined) => (w ? `${w.schedule} ${w.timezone}` : undefined);

/**
 * The last report as `host show` prints it. Everything in it came from the agent: printed
 * escaped, the error (the agent's build or activation error) on a line of its own.
 */
function lastReport(r: StoredReport | null): string[] {
  if (!r) return ["last report: (none)"];
  return [
    `last report: ${printable(r.result)} at ${r.receivedAt}${r.release ? ` (release ${printable(r.release.channel)}#${r.release.number})` : ""}`,
    ...(r.error ? [`  error: ${printable(r.error)}`] : []),
    ...r.warnings.map((w) => `  warning: ${printable(w)}`),
  ];
}

/** `congruent host add|set|show|list|remove|token|schema` and `congruent rg add|list`. */
export function registerHosts(program: Command): void {
  registerHost(program);
  registerRg(program);
}

function registerHost(program: Command): void {
  const host = program.command("host").description("add, change, show and remove hosts in the directory").addHelpText("after", ENV_HELP);

  withClient(host.command("add"))
    .description("add a host and print its token (shown this once)")
    .argument("<name>", "host name: lower-case letters, digits and '-', at most 63")
    .requiredOption("--rg <group>", "resource group (create it with 'congruent rg add')")
    .option("--role <role>", "a role of the host (webgateway, postgresql13…postgresql17, redis, memcached); repeat for several", collect, [])
    .option("--param <key=value>", "a parameter, e.g. fqdn=web1.example.net; repeat for several", collect, [])
    .option("--set <component.setting=value>", "a setting of the host, overriding its release's role defaults; repeat", collect, [])
    .option("--channel <channel>", "the channel whose releases the host follows")
    .option("--window <schedule>", "weekly maintenance window for restarts, e.g. 'Sun 02:00-04:00' or 'daily 01:00-02:00'")
    .option("--timezone <tz>", "time zone of the window (IANA, e.g. Europe/Berlin; default UTC)")
    .option("--token-out <file>", "also write the token to this file (mode 0600), for 'congruent manage --token-file'")
    .addHelpText(
      "after",
      `
Every role, setting, range and allowed value is checked by the directory against
the host schema ('congruent host schema' lists them) before anything is stored.
Values given with --set are typed as the schema types that setting (a boolean
takes true/false/on/off/yes/no; an open setting such as a PostgreSQL parameter
keeps numbers and true/false, the rest is a string). What needs the program
itself (is this a PostgreSQL parameter?) is checked by the agent's build; its
error is the host's last report ('host show').

A restart-only change waits for the host's maintenance window (reported as
deferred, shown by 'host show'); a host without a window waits for
'congruent manage --force' on the host.

Examples:
  $ congruent host add web1 --rg acme --role webgateway --param fqdn=web1.acme.example \\
      --set nginx.worker_processes=4 --channel stable --window "Sun 02:00-04:00" --timezone Europe/Berlin
  host web1 added; token (shown once): cgt_…
  $ congruent host add db1 --rg acme --role postgresql15 --set postgresql.work_mem=16MB \\
      --channel stable --window "daily 03:00-04:00" --token-out /tmp/db1.token`,
    )
    .action(async (name: string, opts: ClientOptions & { rg: string; role: string[]; param: string[]; set: string[]; channel?: string; window?: string; timezone?: string; tokenOut?: string }) => {
      const d = await client(opts);
      const created = await d.createHost({
        name,
        resourceGroup: opts.rg,
        roles: opts.role,
        parameters: Object.fromEntries(opts.param.map(parseParam)),
        settings: await applySettings({}, opts.set),
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
    .option("--no-window", "no maintenance window (restarts wait for 'congruent manage --force' on the host)")
    .option("--timezone <tz>", "time zone of the window (with --window)")
    .addHelpText(
      "after",
      `
Roles and settings are checked together: a host's settings must belong to
components its roles enable ('congruent host schema').

Examples:
  $ congruent host set web1 --set nginx.worker_processes=8 --unset nginx.gzip
  $ congruent host set db1 --role postgresql15 --set postgresql.shared_buffers=256MB
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
          if (opts.set.length || opts.unset.length) patch.settings = await applySettings(host.settings, opts.set, opts.unset);
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
          `  window: ${windowText(w) ?? "(none: restarts wait for --force)"}`,
          ...Object.entries(h.parameters).map(([k, v]) => `  param ${k} = ${printable(v)}`),
          ...fmtSettings(h.settings),
          ...lastReport(r),
          detail.pending.length
            ? [`pending (waits for ${windowText(w) ?? "--force"}):`, ...detail.pending.map((p) => `  ${p.action} ${printable(p.service)} (${p.why.map(printable).join(", ")})`)].join("\n")
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
      report(
        opts.json,
        hosts,
        () =>
          hosts.map((h) => `${h.name}\t${h.resourceGroup}\t${h.channel ?? "-"}\t${h.roles.join(",") || "-"}\t${h.lastResult ? `${printable(h.lastResult)} ${h.lastReportAt}` : "never reported"}`).join("\n") ||
          "(no hosts)",
      );
    });

  host
    .command("schema")
    .description("print the host schema: roles, the components they enable, each setting's type, range, default and change class")
    .option("--json", "print the schema as data (what GET /v1/schema serves)")
    .addHelpText(
      "after",
      `
The schema is this installation's component registry; the directory checks hosts,
settings and release defaults against the same one (GET /v1/schema).

Example:
  $ congruent host schema
  roles:
    webgateway      nginx
  …
  settings.nginx (nginx web server …):
    worker_processes      integer 1–64, default 1 (reload): number of worker processes`,
    )
    .action(async (opts: { json?: boolean }) => {
      const { describeHostSchema } = await import("../schema/describe.js");
      const schema = describeHostSchema();
      report(opts.json, schema, () => formatSchema(schema));
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

function formatSchema(schema: HostSchemaDescription): string {
  const range = (d: SettingDescription) =>
    d.values ? d.values.join("|") : d.min !== undefined || d.max !== undefined ? `${d.type} ${d.min ?? "…"}–${d.max ?? "…"}` : d.type;
  return [
    `host names: ${schema.name.rule}`,
    "roles:",
    ...schema.roles.map((r) => `  ${r.name.padEnd(15)} ${r.components.join(", ")}`),
    ...schema.components.flatMap((c) => [
      `settings.${c.name} (${c.description}):`,
      ...c.settings.map((d) => `  ${d.name.padEnd(21)} ${range(d)}, default ${JSON.stringify(d.default)} (${d.change}): ${d.description}`),
      ...(c.openSettings ? [`  …and any other ${c.name} setting, checked by the build against the program itself`] : []),
    ]),
    `maintenance window: ${schema.maintenanceWindow.schedule.rule}; time zone: ${schema.maintenanceWindow.timezone}`,
  ].join("\n");
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

