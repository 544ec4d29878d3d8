import type { Command } from "commander";
import type { DirectoryClient } from "../directory/client.js";
import { CongruentError } from "../errors.js";
import { report } from "./common.js";
import { client, collect, ENV_HELP, withClient, type ClientOptions } from "./directory-client.js";

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

/** `congruent host add|set|show|list|remove|token` and `congruent rg add|list`. */
export function registerHosts(program: Command): void {
  registerHost(program);
  registerRg(program);
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

