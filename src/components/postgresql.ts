import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, chmodSync, chownSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { dir, file } from "../store/tree.js";
import { removeTree } from "../store/nar.js";
import type { NarNode } from "../store/nar.js";
import type { Component, InputError, LiveContext, RecordedSetting, RenderContext } from "./component.js";
import { sharedScratchDir } from "../generation/scratch.js";
import { programIdentity } from "./program.js";
import { changeClass, parameterLookup, type PgParameter } from "./support/pg-catalogue.js";
import { hasLocale, installedLocales } from "./support/locales.js";
import { parseConf, quoteValue } from "./support/pg-conf.js";
import { query, withClient } from "./support/pg-client.js";
import { ensureRoles, parseRoles, ROLES_FILE, type AppRole } from "./support/pg-roles.js";
import { asUser, userIds } from "./support/server-user.js";

const README = `Congruent integration point for PostgreSQL
==========================================

Files named *.conf in this directory are read by the PostgreSQL server Congruent builds for
this host, in name order, after the settings of the host description (a later line wins).
Each line is \`name = value\`, exactly as in postgresql.conf, e.g. tuning.conf:

    work_mem = 16MB
    log_min_duration_statement = 500ms
    shared_buffers = 256MB

On the next build (the agent runs it on a timer, or \`congruent switch\`):
  * every name and value is checked against the server's own catalogue and parser; an unknown
    name or a bad value stops the build naming this file and line, and the running server
    keeps its configuration;
  * a change to a setting PostgreSQL can take live (context sighup, superuser, user, …) is a
    reload: no connection is dropped. A setting read only at server start (context
    postmaster: shared_buffers, max_connections, port, …) needs a restart, and the plan
    (\`congruent switch --dry-run\`) says so before anything happens.

Application roles and their databases go in roles.json (not a .conf file):

    { "shop": { "databases": ["shop", "shop_staging"], "connection_limit": 20 } }

Each role logs in with the password in <state>/secrets/postgresql/<role>.password (made once,
mode 0600; put your own there first to choose it). Passwords never enter the store. A role
removed from roles.json can no longer log in (NOLOGIN); its databases are never dropped.
Local Unix-socket connections use peer authentication (OS user = role name); TCP connections
on 127.0.0.1 need the password (scram-sha-256).

Not allowed here (the platform owns them): data_directory, config_file, hba_file, ident_file,
unix_socket_directories, external_pid_file, include, include_dir, include_if_exists.
The data directory is never rewritten or removed by a switch, a rollback or gc.
Files not ending in .conf are ignored. This README is a link managed by Congruent.
`;

/** Parameters (and directives) the platform sets itself, each with the reason: where files and sockets are. */
export const OWNED: Readonly<Record<string, string>> = {
  data_directory: "the platform keeps the cluster in <state>/data/postgresql",
  config_file: "the platform writes postgresql.conf",
  hba_file: "the platform writes pg_hba.conf",
  ident_file: "the platform writes pg_ident.conf",
  unix_socket_directories: "the platform puts the socket in its runtime directory",
  external_pid_file: "the supervisor tracks the server",
  include: "snippets are included by the platform's postgresql.conf",
  include_dir: "snippets are included by the platform's postgresql.conf",
  include_if_exists: "snippets are included by the platform's postgresql.conf",
};
const SERVER_USER = "postgres";
const DEFAULT_PORT = 5432;

/** The server programs: the role's major if Debian has it installed, else the newest installed. */
function serverBin(roleList: string[]): string {
  if (process.env.CONGRUENT_POSTGRESQL_BIN) return process.env.CONGRUENT_POSTGRESQL_BIN;
  const wanted = roleList.map((r) => r.replace(/^postgresql/, "")).find((m) => /^\d+$/.test(m));
  const root = "/usr/lib/postgresql";
  if (wanted && existsSync(path.join(root, wanted, "bin", "postgres"))) return path.join(root, wanted, "bin");
  const installed = existsSync(root) ? readdirSync(root).filter((m) => /^\d+$/.test(m) && existsSync(path.join(root, m, "bin", "postgres"))) : [];
  const newest = installed.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new CongruentError("E_PROGRAM_MISSING", "PostgreSQL server programs not found under /usr/lib/postgresql; install the Debian package postgresql");
  return path.join(root, newest, "bin");
}

// PostgreSQL's own rule for a parameter name (guc-file.l), extensions' `prefix.name` included.
const PARAMETER_NAME = /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)*$/;

/**
 * What is wrong with `settings.postgresql.<key>` without asking the server: its name's syntax,
 * a parameter the platform sets, a value on one line. Whether the server knows the name and
 * takes the value is checked by the build, against the server's catalogue and parser.
 */
function parameterProblem(key: string, value: number | string | boolean): string | undefined {
  const name = key.toLowerCase();
  if (!PARAMETER_NAME.test(name)) return "not a PostgreSQL parameter name";
  if (name in OWNED) return `${name} is set by the platform and cannot be changed here`;
  if (/[\r\n\0]/.test(String(value))) return "a value must be one line";
  return undefined;
}

const isConf = (f: { name: string }) => f.name.endsWith(".conf") && !f.name.startsWith(".");
const major = (version: string) => version.split(".")[0] ?? version;

/** One place a parameter was set: host description or a snippet line, for messages. */
interface Occurrence {
  name: string;
  value: string;
  where: { file: string; line?: number };
}

/** Parameters whose value names a locale the server switches to (setlocale): it must exist on the host. */
export const LOCALE_PARAMETERS = ["lc_messages", "lc_monetary", "lc_numeric", "lc_time"];

/**
 * Host settings then snippets, in the order PostgreSQL reads them; bad names reported with their
 * place. Names are judged by what the server accepts with the configured libraries loaded
 * (parameterLookup), and a locale the host lacks is named before the server's own check.
 */
function collect(ctx: RenderContext, postgres: string): { occurrences: Occurrence[]; errors: InputError[]; lookup: (name: string) => PgParameter | undefined } {
  const all: Occurrence[] = [];
  const errors: InputError[] = [];
  for (const [key, value] of Object.entries(ctx.settings)) {
    all.push({ name: key.toLowerCase(), value: typeof value === "boolean" ? (value ? "on" : "off") : String(value), where: { file: ctx.settingSource(key) } });
  }
  for (const f of ctx.local.filter(isConf)) {
    const parsed = parseConf(f.contents.toString("utf8"));
    for (const e of parsed.errors) errors.push({ file: f.path, line: e.line, message: e.message });
    for (const e of parsed.entries) all.push({ name: e.name, value: e.value, where: { file: f.path, line: e.line } });
  }
  const preload = all.filter((o) => o.name === "shared_preload_libraries").at(-1)?.value.split(",").map((l) => l.trim()).filter(Boolean) ?? [];
  const lookup = parameterLookup(postgres, preload);
  const occurrences = all.filter((o) => {
    const p = o.name in OWNED ? undefined : lookup(o.name);
    if (o.name in OWNED) errors.push({ ...o.where, message: `${o.name} is set by the platform and cannot be changed here` });
    else if (!p) errors.push({ ...o.where, message: `unknown PostgreSQL parameter "${o.name}"` });
    else if (!changeClass(p)) errors.push({ ...o.where, message: `${p.name} is a read-only (internal) parameter` });
    else if (LOCALE_PARAMETERS.includes(o.name) && !hasLocale(o.value)) errors.push({ ...o.where, message: localeMissing(o.name, o.value) });
    else return true;
    return false;
  });
  return { occurrences, errors, lookup };
}

/** Why a locale parameter cannot be used on this host, and what to do. */
export function localeMissing(parameter: string, locale: string): string {
  return `${parameter}: locale "${locale}" is not installed on this host (locale -a: ${[...installedLocales()].join(", ")}); install it (Debian: locales-all, or locale-gen) or choose one it has`;
}

function renderConf(ctx: RenderContext): string {
  const lines = [
    `# Generated by Congruent for host ${ctx.hostName}. Do not edit: change the host description`,
    "# (settings.postgresql) or add *.conf files to the postgresql integration point.",
    `hba_file = ${quoteValue(`${ctx.configLink}/pg_hba.conf`)}`,
    `ident_file = ${quoteValue(`${ctx.configLink}/pg_ident.conf`)}`,
    `unix_socket_directories = ${quoteValue(ctx.runtimeDir)}`,
    "listen_addresses = '127.0.0.1'",
    "",
    "# settings.postgresql from the host description",
    ...Object.entries(ctx.settings).map(([k, v]) => `${k} = ${quoteValue(v)}`),
    "",
    "# Customer snippets, relative to this file's directory, in name order (a later line wins).",
    "include_dir 'local'",
    "",
  ];
  return lines.join("\n");
}

// Local connections: root (the agent) and postgres may act as the superuser through peer auth;
// every other OS user as itself. TCP needs a password (stored in the data directory, never here).
const HBA = `# Generated by Congruent.
local   all   postgres   peer map=congruent
local   all   all        peer
host    all   all        127.0.0.1/32   scram-sha-256
host    all   all        ::1/128        scram-sha-256
`;
const IDENT = `# Generated by Congruent: OS users allowed to connect as the postgres superuser.
congruent   root       postgres
congruent   postgres   postgres
`;

/** Port and socket directory of the live server, from the generation's recorded settings. */
function endpoint(live: LiveContext): { host: string; port: number } {
  const port = live.meta.settings.port?.value;
  return { host: live.runtimeDir, port: port === undefined ? DEFAULT_PORT : Number(port) };
}

/** Data directory of this server's major version: a new major never opens an old cluster. */
const clusterDir = (live: LiveContext) => path.join(live.dataDir, major(live.meta.program.version));

/**
 * Ask the server's own parser about every value: `postgres -C port` loads the whole
 * configuration without a running server and logs each bad value. Its messages name the
 * parameter, not the file: map them back to where that parameter was set.
 */
function checkValues(bin: string, dirPath: string, occurrences: Occurrence[]): InputError[] {
  const scratch = sharedScratchDir("pgcheck-");
  try {
    chmodSync(scratch, 0o755);
    cpSync(dirPath, path.join(scratch, "conf"), { recursive: true });
    mkdirSync(path.join(scratch, "data"), { mode: 0o700 });
    const ids = process.getuid?.() === 0 ? userIds(SERVER_USER) : undefined;
    if (ids) chownSync(path.join(scratch, "data"), ids.uid, ids.gid);
    const argv = asUser(SERVER_USER, [path.join(bin, "postgres"), "-D", path.join(scratch, "data"), "-c", `config_file=${path.join(scratch, "conf", "postgresql.conf")}`, "-C", "port"]);
    const run = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
    if (run.status === 0) return [];
    return mapServerErrors(run.stderr ?? String(run.error), occurrences, scratch);
  } finally {
    removeTree(scratch);
  }
}

/** `LOG: invalid value for parameter "work_mem": "lots"` → the file and line that set it. */
export function mapServerErrors(stderr: string, occurrences: Occurrence[], scratch: string): InputError[] {
  const errors: InputError[] = [];
  const lines = stderr.split("\n").map((l) => l.replace(/^.*?\b(LOG|FATAL|HINT|DETAIL|ERROR):\s+/, "$1: "));
  lines.forEach((text, i) => {
    const m = text.match(/^(?:LOG|ERROR): (.*parameter "([^"]+)".*)$/);
    if (!m) return;
    const [, message = "", param = ""] = m;
    const name = param.toLowerCase();
    const candidates = occurrences.filter((o) => o.name === name);
    const exact = candidates.filter((o) => message.includes(`"${o.value}"`) || message.startsWith(`${o.value} `));
    const at = (exact.length ? exact : candidates).at(-1);
    const hint = lines[i + 1]?.startsWith("HINT: ") ? ` (${lines[i + 1]!.slice(6).trim()})` : "";
    errors.push({ ...(at?.where ?? { file: "postgresql.conf (generated)" }), message: `${message}${hint}` });
  });
  if (errors.length === 0) {
    const fatal = lines.find((l) => l.startsWith("FATAL: ")) ?? lines.find((l) => l.trim()) ?? "postgres rejected the configuration";
    errors.push({ file: "postgresql.conf", message: fatal.replaceAll(scratch, "<check>") });
  }
  return errors;
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Connection attempts and queries that must not hang a switch. */
const TIMEOUT_MS = 3000;

/** PostgreSQL 13–17 (the role names the intended major; the installed server is used). */
export const postgresql: Component = {
  name: "postgresql",
  description: "PostgreSQL server; parameters from settings.postgresql and /etc/local/postgresql/*.conf, checked against the server's catalogue",
  settings: {},
  openSettings: true,
  checkOpenSetting: parameterProblem,
  integrationPoint: { accepts: (name) => isConf({ name }) || name === ROLES_FILE, readme: README },

  async render(ctx) {
    const bin = serverBin(ctx.roles);
    const { occurrences, errors, lookup } = collect(ctx, path.join(bin, "postgres"));
    if (errors.length > 0) {
      const first = errors[0]!;
      const code = ctx.local.some((f) => f.path === first.file) ? "E_LOCAL_INVALID" : "E_HOST_INVALID";
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
      throw new CongruentError(code, `${first.file}${first.line ? `:${first.line}` : ""}: ${first.message}${more}`);
    }
    // What the server will run with, later lines winning, each with the class its context gives.
    const settings: Record<string, RecordedSetting> = { listen_addresses: { value: "127.0.0.1", change: "restart" } };
    for (const o of occurrences) settings[o.name] = { value: o.value, change: changeClass(lookup(o.name)!)! };
    const rolesFile = ctx.local.find((f) => f.name === ROLES_FILE);
    const roles = rolesFile ? parseRoles(rolesFile.path, rolesFile.contents.toString("utf8")) : {};
    for (const [name, role] of Object.entries(roles)) {
      // Roles live in the data directory: created and altered on the live server, never a restart.
      settings[`role ${name}`] = { value: `databases=${role.databases.join(",") || "-"} connection_limit=${role.connection_limit ?? -1}`, change: "runtime" };
    }
    const local: Record<string, NarNode> = {};
    for (const f of ctx.local.filter(isConf)) local[f.name] = file(f.contents);
    const extra: Record<string, NarNode> = rolesFile ? { [ROLES_FILE]: file(`${JSON.stringify(roles, null, 2)}\n`) } : {};
    const program = programIdentity(path.join(bin, "postgres"), ["--version"], (out) => out.match(/PostgreSQL\)?\s+(\d+(?:\.\d+)*)/)?.[1]);
    return {
      tree: dir({ "postgresql.conf": file(renderConf(ctx)), "pg_hba.conf": file(HBA), "pg_ident.conf": file(IDENT), local: dir(local), ...extra }),
      settings,
      // The settings above carry what a snippet changes; the file itself only says where.
      inputs: Object.fromEntries(ctx.local.map((f) => [`snippet:${f.name}`, { label: `snippet ${f.name}`, hash: sha(f.contents), change: "none" as const }])),
      program,
      service: {
        name: "postgresql",
        command: [path.join(bin, "postgres"), "-D", path.join(ctx.dataDir, major(program.version)), "-c", `config_file=${ctx.configLink}/postgresql.conf`],
        user: SERVER_USER,
        writablePaths: [ctx.dataDir, ctx.runtimeDir],
        reloadSignal: "HUP",
        // SIGINT is PostgreSQL's "fast" shutdown; TERM ("smart") would wait for every client to leave.
        stopSignal: "INT",
      },
    };
  },

  async validate(ctx, dirPath) {
    const bin = serverBin(ctx.roles);
    const { occurrences } = collect(ctx, path.join(bin, "postgres"));
    return checkValues(bin, dirPath, occurrences);
  },

  async prepare(live) {
    const ids = process.getuid?.() === 0 ? userIds(SERVER_USER) : undefined;
    const data = clusterDir(live);
    // The parents are the platform's (searchable); the cluster's own directory is the server's.
    mkdirSync(path.dirname(live.dataDir), { recursive: true, mode: 0o755 });
    mkdirSync(live.dataDir, { recursive: true, mode: 0o700 });
    if (ids) {
      chownSync(live.dataDir, ids.uid, ids.gid);
      chownSync(live.runtimeDir, ids.uid, ids.gid);
    }
    readableByServer(path.join(live.configDir, "postgresql.conf"));
    const version = path.join(data, "PG_VERSION");
    if (existsSync(version)) {
      const found = readFileSync(version, "utf8").trim();
      if (found !== major(live.meta.program.version)) throw new CongruentError("E_ACTIVATION", `postgresql: ${data} holds a PostgreSQL ${found} cluster, the server is ${live.meta.program.version}`);
      return;
    }
    // First start: the one time the data directory is written by the platform.
    const initdb = path.join(path.dirname(live.meta.program.path), "initdb");
    const argv = asUser(SERVER_USER, [initdb, "-D", data, "-U", SERVER_USER, "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=scram-sha-256", "--no-instructions"]);
    const run = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
    if (run.status !== 0) throw new CongruentError("E_ACTIVATION", `postgresql: initdb ${data} failed: ${(run.stderr || String(run.error)).trim().split("\n").at(-1)}`);
  },

  // roles.json's roles are its only runtime-class settings: ensure() runs after every step.
  async ensure(live) {
    let roles: Record<string, AppRole> = {};
    try {
      roles = JSON.parse(readFileSync(path.join(live.configDir, ROLES_FILE), "utf8")) as Record<string, AppRole>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    await withClient(endpoint(live), TIMEOUT_MS, (client) => ensureRoles(client, roles, live.secretsDir));
  },

  async health(live) {
    const rows = await query(endpoint(live), "SELECT 1 AS ok", TIMEOUT_MS);
    if (rows[0]?.ok !== 1) throw new Error("SELECT 1 did not return 1");
  },

  async markBeforeReload(live) {
    const rows = await query(endpoint(live), "SELECT pg_conf_load_time()::text AS t", TIMEOUT_MS);
    return rows[0]?.t;
  },

  async confirmReload(live, _pid, before) {
    // The postmaster handles SIGHUP asynchronously; a new session shows the new load time
    // once it has. Then nothing may be left pending a restart or rejected by the server.
    const deadline = Date.now() + live.waitMs;
    for (;;) {
      const rows = await query(endpoint(live), "SELECT pg_conf_load_time()::text AS t", TIMEOUT_MS);
      if (rows[0]?.t !== before) break;
      if (Date.now() > deadline) throw new Error(`the server did not re-read its configuration within ${live.waitMs / 1000} s of SIGHUP`);
      await new Promise((r) => setTimeout(r, 10));
    }
    // Only what this generation sets counts: a DBA's ALTER SYSTEM (postgresql.auto.conf, divergent
    // by nature) of a postmaster setting waits for a restart too, and must not fail every switch.
    const ours = (name: unknown) => typeof name === "string" && name.toLowerCase() in live.meta.settings;
    const pending = (await query(endpoint(live), "SELECT name FROM pg_settings WHERE pending_restart ORDER BY name", TIMEOUT_MS)).filter((r) => ours(r.name));
    const rejected = (await query(endpoint(live), "SELECT name, sourcefile, sourceline, error FROM pg_file_settings WHERE error IS NOT NULL ORDER BY seqno", TIMEOUT_MS)).filter(
      (r) => ours(r.name) && !String(r.sourcefile).endsWith("/postgresql.auto.conf"),
    );
    const problems = [
      ...pending.map((r) => `${r.name}: waits for a restart`),
      ...rejected.map((r) => `${r.name ?? "?"}: ${r.error} (${r.sourcefile}:${r.sourceline})`),
    ];
    if (problems.length > 0) throw new Error(`reload left settings unapplied: ${problems.join("; ")}`);
  },
};

/** The server runs unprivileged: it must be able to read its configuration in the store. */
function readableByServer(conf: string): void {
  if (process.getuid?.() !== 0) return;
  const argv = asUser(SERVER_USER, ["test", "-r", conf]);
  if (spawnSync(argv[0]!, argv.slice(1)).status !== 0) {
    throw new CongruentError("E_ACTIVATION", `postgresql: user ${SERVER_USER} cannot read ${conf}; every directory above the state directory's store must be searchable by others (chmod o+x)`);
  }
}
