import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { findProgram } from "../../components/program.js";
import { userIds } from "../../components/support/server-user.js";
import { absolutePath, CREATES_DIR } from "../../components/nginx/paths.js";
import { unquote } from "../../components/nginx/syntax.js";
import { GENTOO_NGINX, GENTOO_NGINX_BASES } from "../gentoo-nginx.js";
import { effectiveMemcached } from "../memcached-config.js";
import type { MemcachedFact, NginxFact, NginxNode, PostgresqlFact, RedisFact } from "../types.js";
import type { ServiceStart } from "./runner.js";
import { sh } from "./sandbox.js";
import { nginxBinary } from "../../components/nginx/binary.js";

/**
 * How the legacy host's own servers are started for the behavioural verify: this host's
 * programs, chrooted into the legacy view, run as the legacy init scripts would run them (nginx
 * with Gentoo's prefix, memcached with conf.d's options), with only what must differ changed:
 * a fresh, empty database cluster and Redis directory (never the legacy data), and sockets in a
 * scratch directory inside the view.
 */
export const SCRATCH = "/var/lib/congruent-verify";

/** Directories the local nginx binary writes into by default (its ./configure paths): made in the view. */
function nginxBuildDirs(binary: string): string[] {
  const out = spawnSync(binary, ["-V"], { encoding: "utf8" });
  const dirs = new Set<string>();
  for (const m of `${out.stdout}${out.stderr}`.matchAll(/--(?:http-log|error-log|pid|lock|http-[a-z]+-temp)-path=(\/\S+)/g)) dirs.add(path.posix.dirname(m[1]!));
  return [...dirs];
}

/** A setup line run inside the view (chrooted), so its paths resolve as the host's own would. */
export const inside = (view: string, command: string) => `chroot ${sh(view)} /bin/sh -c ${sh(command)}`;

export interface LegacyStart {
  /** Setup lines run in the sandbox after the view is composed. */
  setup: string[];
  services: ServiceStart[];
}

/** Every cache and temp path the configuration names, at any level (nginx makes them at start). */
function createdDirs(nodes: NginxNode[]): string[] {
  return nodes.flatMap((n) => {
    if (n.block) return createdDirs(n.block);
    if (!CREATES_DIR.has(n.name)) return [];
    const value = unquote(n.args[0] ?? "");
    const p = value.startsWith("/") ? value : absolutePath(n.name, value, GENTOO_NGINX_BASES);
    return p && !p.includes("$") ? [p] : [];
  });
}

/** The legacy nginx: -p Gentoo's prefix, its nginx.conf, in the foreground, logging to stderr. */
export function legacyNginx(view: string, fact: NginxFact, listen: { tcp: [string, number][]; sockets: string[] }): LegacyStart {
  const binary = nginxBinary();
  const main = new Set(fact.main_directives.map((d) => d.name));
  const g = [...(main.has("daemon") ? [] : ["daemon off;"]), ...(main.has("user") ? [] : [`user ${GENTOO_NGINX.user} ${GENTOO_NGINX.group};`])];
  // The directories logs, caches and temp files go to exist on the legacy host (its nginx ran);
  // a copy may lack empty ones, and nginx makes only the last level of a cache or temp path.
  const logDirs = [...fact.main_directives, ...fact.http, ...fact.servers.flatMap((s) => s.block ?? [])]
    .filter((d) => (d.name === "access_log" || d.name === "error_log") && unquote(d.args[0] ?? "").startsWith("/"))
    .map((d) => path.posix.dirname(unquote(d.args[0]!)));
  const createdIn = createdDirs([...fact.http, ...fact.servers]).map((p) => path.posix.dirname(p));
  const dirs = [...new Set([...nginxBuildDirs(binary), ...logDirs, ...createdIn, ...GENTOO_NGINX.tempPaths.map((p) => path.posix.dirname(p))])];
  return {
    setup: dirs.map((d) => inside(view, `mkdir -p ${sh(d)}`)),
    services: [{ name: "legacy nginx", argv: ["chroot", view, binary, "-p", GENTOO_NGINX.prefix, "-c", GENTOO_NGINX.conf, "-e", "stderr", ...(g.length ? ["-g", g.join(" ")] : [])], ready: { tcp: listen.tcp, sockets: listen.sockets }, stopSignal: "SIGQUIT" }],
  };
}

const asServer = (user: string, argv: string[]) => {
  const { uid, gid } = userIds(user);
  return ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", ...argv];
};

/**
 * The legacy PostgreSQL configuration (its postgresql.conf, includes and the cluster's
 * postgresql.auto.conf) on a fresh cluster: an overlay of `template` (written into `scratch`, so
 * one template serves every run), never the legacy data.
 */
export function legacyPostgres(view: string, fact: PostgresqlFact, template: string, port: number, scratch: string): LegacyStart {
  const bin = path.dirname(findPostgres(fact.major));
  const data = `${SCRATCH}/pgdata`;
  const { uid, gid } = userIds("postgres");
  const [upper, work] = [path.join(scratch, "pg-upper"), path.join(scratch, "pg-work")];
  const setup = [
    `mkdir -p ${sh(upper)} ${sh(work)}`,
    `chown ${uid}:${gid} ${sh(upper)} && chmod 700 ${sh(upper)}`,
    inside(view, `mkdir -p ${SCRATCH}/pgsock ${data}`),
    `mount -t overlay overlay -o ${sh(`lowerdir=${template},upperdir=${upper},workdir=${work}`)} "${view}$(chroot ${sh(view)} realpath ${data})"`,
    ...(fact.dataDir ? [inside(view, `[ -f ${sh(`${fact.dataDir}/postgresql.auto.conf`)} ] && cp ${sh(`${fact.dataDir}/postgresql.auto.conf`)} ${data}/ || true`)] : []),
    inside(view, `printf 'local all all trust\\n' > ${SCRATCH}/pg_hba.conf && : > ${SCRATCH}/pg_ident.conf && chown -R ${uid}:${gid} ${SCRATCH}/pgsock ${data}/postgresql.auto.conf 2>/dev/null; chown ${uid}:${gid} ${SCRATCH}/pgsock`),
  ];
  const argv = [path.join(bin, "postgres"), "-D", data, "-c", `config_file=${fact.configFile}`, "-c", `data_directory=${data}`, "-c", `hba_file=${SCRATCH}/pg_hba.conf`, "-c", `ident_file=${SCRATCH}/pg_ident.conf`, "-c", `unix_socket_directories=${SCRATCH}/pgsock`, "-c", "external_pid_file="];
  return { setup, services: [{ name: "legacy postgresql", argv: ["chroot", view, ...asServer("postgres", argv)], ready: { sockets: [`${SCRATCH}/pgsock/.s.PGSQL.${port}`] }, stopSignal: "SIGINT" }] };
}

/** The installed PostgreSQL server of the legacy major, else the newest installed (as the component picks it). */
export function findPostgres(major: string): string {
  if (process.env.CONGRUENT_POSTGRES) return process.env.CONGRUENT_POSTGRES;
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root) ? readdirSync(root).filter((m) => /^\d+$/.test(m) && existsSync(path.join(root, m, "bin", "postgres"))) : [];
  const pick = majors.includes(major) ? major : majors.sort((a, b) => Number(b) - Number(a))[0] ?? major;
  return path.join(root, pick, "bin", "postgres");
}

/** The legacy redis.conf with its includes, on an empty directory, with a password the verify knows. */
export function legacyRedis(view: string, fact: RedisFact, password: string): LegacyStart {
  const binary = findProgram("redis-server", process.env.CONGRUENT_REDIS, "redis-server");
  const { uid, gid } = userIds("redis");
  const dir = `${SCRATCH}/redis`;
  // CONFIG renamed (or disabled) is left out of the plan, said as visible to clients: the legacy
  // server runs without that line here, so its settings can be asked under CONFIG's own name.
  const configRenamed = fact.directives.some((d) => d.name === "rename-command" && /^"?config"?(\s|$)/i.test(d.value));
  const conf = configRenamed ? `${SCRATCH}/redis-verify.conf` : fact.configFile!;
  const copy = configRenamed ? [inside(view, `sed -E '/^[[:space:]]*rename-command[[:space:]]+"?config"?[[:space:]]/Id' ${sh(fact.configFile!)} > ${conf}`)] : [];
  const argv = [binary, conf, "--daemonize", "no", "--supervised", "no", "--dir", dir, "--logfile", "", "--pidfile", "", "--unixsocket", `${SCRATCH}/redis.sock`, "--unixsocketperm", "777", "--requirepass", password];
  return {
    setup: [inside(view, `mkdir -p ${dir} && chown ${uid}:${gid} ${dir} ${SCRATCH}`), ...copy],
    services: [{ name: "legacy redis", argv: ["chroot", view, ...asServer("redis", argv)], ready: { sockets: [`${SCRATCH}/redis.sock`] }, stopSignal: "SIGTERM" }],
  };
}

/** memcached with the options Gentoo's init script passes from /etc/conf.d/memcached. */
export function legacyMemcached(view: string, fact: MemcachedFact): LegacyStart & { at: { host: string; port: number } } {
  const binary = findProgram("memcached", process.env.CONGRUENT_MEMCACHED, "memcached");
  const v = fact.variables;
  const flag = (name: string, key: string) => (v[key]?.trim() ? [name, v[key]!.trim()] : []);
  // conf.d is shell: MISC_OPTS is split into words as the init script's command line splits it.
  const argv = [binary, ...flag("-p", "PORT"), ...flag("-U", "UDPPORT"), ...flag("-l", "LISTENON"), ...flag("-m", "MEMUSAGE"), ...flag("-c", "MAXCONN"), ...flag("-t", "THREADS"), ...(v.MISC_OPTS ?? "").split(/\s+/).filter(Boolean)];
  const { settings } = effectiveMemcached(fact);
  const host = settings.listen === "0.0.0.0" ? "127.0.0.1" : settings.listen === "::" ? "::1" : settings.listen;
  return { setup: [], services: [{ name: "legacy memcached", argv: ["chroot", view, ...asServer("memcache", argv)], ready: { tcp: [[host, settings.port]] }, stopSignal: "SIGTERM" }], at: { host, port: settings.port } };
}
