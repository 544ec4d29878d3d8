import path from "node:path";
import { unknownDirectives } from "../components/nginx/directives.js";
import { absolutePath, CREATES_DIR, DEFAULT_ROOT, READS_FILE } from "../components/nginx/paths.js";
import { PLATFORM_EVENTS, PLATFORM_HTTP, PLATFORM_MAIN, platformTypes, typesMap } from "../components/nginx/platform.js";
import { quoteWord, serializeNginx, unquote } from "../components/nginx/syntax.js";
import { checkSetting } from "../components/component.js";
import { components } from "../components/registry.js";
import { at, type Conversion, type LeftOut, type Requirement, type Snippet } from "./conversion.js";
import { GENTOO_NGINX, GENTOO_NGINX_BASES } from "./gentoo-nginx.js";
import { canonicalNginx, canonicalServers, flatten } from "./nginx-canonical.js";
import { serverKey } from "./nginx-config.js";
import type { Blocker, NginxFact, NginxNode } from "./types.js";
import { nginxSeconds, normalizeNginxSize } from "./units.js";

type Value = number | string | boolean;

/** What nginx itself uses when a directive is absent: the legacy host's effective values. */
const NGINX_BUILTIN: Record<string, Value> = {
  worker_processes: 1,
  worker_connections: 512,
  keepalive_timeout: 75,
  client_max_body_size: "1m",
  server_tokens: true,
  gzip: false,
  access_log: true,
  error_log_level: "error",
};

/** nginx's own `types` and `default_type` when a configuration sets none (ngx_http_core_module). */
const BUILTIN_TYPES = new Map([["html", "text/html"], ["gif", "image/gif"], ["jpg", "image/jpeg"]]);
const BUILTIN_DEFAULT_TYPE = "text/plain";

// Main-level directives beyond the ones the platform's nginx.conf sets (PLATFORM_MAIN): snippets
// are pasted into http {}, so none of these can be carried; none changes what clients see.
const MAIN_ONLY: Record<string, string> = {
  master_process: "the supervisor runs nginx with its master process",
  worker_rlimit_nofile: "set by the platform's service definition",
  load_module: "modules are those of the platform's nginx build",
  include: "main-level includes (modules) belong to the platform's nginx build",
  pcre_jit: "set by the platform's nginx build",
  env: "the service environment is the platform's",
};

/** nginx's blocks for protocols other than HTTP: what each one does for the legacy host's clients. */
const OTHER_PROTOCOLS: Record<string, string> = {
  stream: "proxies or serves TCP/UDP",
  mail: "proxies SMTP, IMAP or POP3",
};

// Blocks whose lines are data (map entries, types, ranges), not directives.
const DATA_BLOCKS = new Set(["map", "geo", "split_clients", "types", "charset_map"]);

/**
 * Directives of modules the platform's nginx lacks (Passenger, headers-more, brotli, lua…), as
 * the installed nginx itself tells: one blocker per family (`passenger_*`), naming where each is.
 */
function moduleBlockers(fact: NginxFact): Blocker[] {
  const where = new Map<string, string[]>();
  const walk = (nodes: NginxNode[]) => {
    for (const n of nodes) {
      if (n.name in OTHER_PROTOCOLS && n.block) continue; // a blocker of its own
      where.set(n.name, [...(where.get(n.name) ?? []), at(n)]);
      if (n.block && !DATA_BLOCKS.has(n.name)) walk(n.block);
    }
  };
  walk([...fact.main_directives, ...fact.events, ...fact.http, ...fact.servers]);
  const families = new Map<string, string[]>();
  for (const name of unknownDirectives(where.keys())) {
    const family = `${name.split("_")[0]}*`;
    families.set(family, [...(families.get(family) ?? []), name]);
  }
  return [...families].map(([family, names]) => {
    const places = names.flatMap((n) => where.get(n)!);
    const shown = `${places.slice(0, 3).join(", ")}${places.length > 3 ? ` and ${places.length - 3} more` : ""}`;
    return {
      kind: "platform-lacks" as const,
      subject: `nginx module for ${family}`,
      detail: `${names.join(", ")} (${shown}): the platform's nginx has no module for ${names.length > 1 ? "them" : "it"} (unknown directive); drop ${names.length > 1 ? "them" : "it"} or do the same with what the platform's nginx has`,
    };
  });
}

/** The setting table of the platform's nginx component, from the registry (never a copy). */
function spec() {
  return components.get("nginx")?.settings ?? {};
}

/** Congruent's effective nginx settings for a host: its settings over the component's defaults. */
export function congruentNginxSettings(hostSettings: Record<string, Value> = {}): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, s] of Object.entries(spec())) out[k] = hostSettings[k] ?? s.default;
  return out;
}

/** `nginx setting <name>` → comparable value. */
export function canonicalSettings(values: Record<string, Value>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(values)) {
    if (k === "user") continue; // platform-owned, listed as left out
    out.set(`nginx setting ${k}`, typeof v === "boolean" ? (v ? "on" : "off") : k === "client_max_body_size" ? normalizeNginxSize(String(v)) : String(v));
  }
  return out;
}

const node = (name: string, args: string[], from: { path: string; line: number }, block?: NginxNode[]): NginxNode => ({ name, args, path: from.path, line: from.line, ...(block ? { block } : {}) });

/**
 * Turn the legacy nginx configuration into the webgateway role: settings the component knows,
 * one snippet per server block (in the legacy order, includes inlined so each snippet stands
 * alone), one `00-http.conf` with the other http-level directives (upstream, map, log_format…),
 * and the directives the platform owns, left out with the reason. What the platform's own
 * nginx.conf would change for clients (content types, the Keep-Alive header, nginx's default
 * root under the legacy prefix) is written into each server block instead, where it wins; every
 * relative path is made absolute as the legacy build resolved it. The files and directories the
 * configuration names become requirements of the new host.
 */
export function convertNginx(fact: NginxFact): Conversion {
  const leftOut: LeftOut[] = [];
  const servesOther: NginxNode[] = [];
  const leave = (n: NginxNode, reason: string, visible?: string) => leftOut.push({ component: "nginx", key: n.name, value: n.args.map(unquote).join(" "), from: at(n), reason, ...(visible ? { visible } : {}) });
  const effective: Record<string, Value> = { ...NGINX_BUILTIN };
  const from: Record<string, string> = {};
  // Settings whose legacy value cannot be expressed: not compared, listed as left out.
  const skip = new Set<string>();
  const set = (k: string, v: Value, n: NginxNode) => {
    effective[k] = v;
    from[k] = at(n);
  };
  const errorLog = (n: NginxNode) => {
    const level = n.args[1] && unquote(n.args[1]);
    if (level) set("error_log_level", level, n);
    leave(n, PLATFORM_MAIN.error_log!.reason);
  };

  for (const n of fact.main_directives) {
    if (n.name === "worker_processes") {
      const v = unquote(n.args[0] ?? "");
      if (/^\d+$/.test(v)) set("worker_processes", Number(v), n);
      else {
        skip.add("worker_processes");
        leave(n, `"${v}" is not a number; settings.nginx.worker_processes takes a count (default 1)`);
      }
    } else if (n.name === "error_log") errorLog(n);
    else if (n.block && n.name in OTHER_PROTOCOLS) servesOther.push(n);
    else leave(n, PLATFORM_MAIN[n.name]?.reason ?? MAIN_ONLY[n.name] ?? "main-level directive the platform's nginx.conf does not take");
  }
  for (const n of fact.events) {
    if (n.name === "worker_connections" && /^\d+$/.test(n.args[0] ?? "")) set("worker_connections", Number(n.args[0]), n);
    else leave(n, n.name in PLATFORM_EVENTS ? PLATFORM_EVENTS[n.name]!.reason : "the events block belongs to the platform (only worker_connections is a setting)");
  }

  // What every server inherits from the legacy http level and the platform's nginx.conf would
  // change: carried into each server block that does not set it itself.
  const inherited: NginxNode[] = [];
  // nginx adds up every `types` block of one level (mime.types, then a site's own extensions).
  const legacyTypes: NginxNode[] = [];
  let legacyDefaultType: NginxNode | undefined;
  const copied: NginxNode[] = [];
  for (const n of fact.http) {
    const a0 = unquote(n.args[0] ?? "");
    if (n.name === "keepalive_timeout") {
      const s = nginxSeconds(a0);
      if (s !== undefined) set("keepalive_timeout", s, n);
      else leave(n, "not a whole number of seconds");
      // The second value is the Keep-Alive response header; the setting has none: the servers keep it.
      if (n.args.length > 1) inherited.push(n);
    } else if (n.name === "client_max_body_size") set("client_max_body_size", a0, n);
    else if (n.name === "server_tokens" && (a0 === "on" || a0 === "off")) set("server_tokens", a0 === "on", n);
    else if (n.name === "gzip" && (a0 === "on" || a0 === "off")) set("gzip", a0 === "on", n);
    else if (n.name === "access_log") {
      set("access_log", a0 !== "off", n);
      if (a0 !== "off") leave(n, PLATFORM_HTTP.access_log!.reason);
    } else if (n.name === "error_log") errorLog(n);
    else if (n.name === "types") legacyTypes.push(n);
    else if (n.name === "default_type") legacyDefaultType = n;
    else if (n.name in PLATFORM_HTTP) leave(n, PLATFORM_HTTP[n.name]!.reason);
    else if (n.name === "include") leave(n, "an include that could not be expanded");
    else copied.push(n);
  }
  const entries = legacyTypes.flatMap((t) => t.block ?? []);
  const types = legacyTypes.length ? typesMap(entries) : BUILTIN_TYPES;
  if (!sameTypes(types, platformTypes())) {
    const block = legacyTypes.length ? entries : [...BUILTIN_TYPES].map(([ext, type]) => node(type, [ext], { path: "nginx's built-in types", line: 0 }));
    inherited.push(node("types", [], legacyTypes[0] ?? { path: "nginx's built-in types", line: 0 }, block));
  } else for (const t of legacyTypes) leave(t, "the same content types as the platform's mime.types");
  const defaultType = legacyDefaultType ? unquote(legacyDefaultType.args[0] ?? "") : BUILTIN_DEFAULT_TYPE;
  if (defaultType !== PLATFORM_HTTP.default_type!.value) inherited.push(node("default_type", [quoteWord(defaultType)], legacyDefaultType ?? { path: "nginx's built-in default_type", line: 0 }));

  // Only what differs from the component's defaults goes into the description; the rest is implied.
  const settings: Record<string, Value> = {};
  const specs = spec();
  for (const [k, v] of Object.entries(effective)) {
    const s = specs[k];
    if (!s) continue;
    const problem = checkSetting(s, v);
    if (problem) {
      skip.add(k);
      leftOut.push({ component: "nginx", key: k, value: String(v), ...(from[k] ? { from: from[k] } : {}), reason: `settings.nginx.${k} does not take it: ${problem}`, ...(PLATFORM_HTTP[k]?.visible ? { visible: `responses use the platform's ${k} (${String(s.default)}) instead` } : {}) });
      continue;
    }
    if (canonical(k, v) !== canonical(k, s.default)) settings[k] = v;
  }

  const httpRoot = fact.http.some((n) => n.name === "root");
  const httpRest = copied.map(absolute);
  const snippets: Snippet[] = [];
  if (httpRest.length) snippets.push({ name: "00-http.conf", text: header(httpRest) + serializeNginx(httpRest), from: [...new Set(httpRest.map((n) => n.path))] });
  const used = new Set<string>();
  const servers = fact.servers.map((srv) => withInherited(absolute(withoutLogFiles(srv, leftOut)), inherited, httpRoot));
  servers.forEach((s, i) => {
    const names = (s.block ?? []).find((d) => d.name === "server_name")?.args.map(unquote) ?? [];
    let base = (names.find((x) => x !== "_" && x !== "") ?? "default").replace(/^[*.~^]+/, "").replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 60) || "default";
    while (used.has(base)) base += "_";
    used.add(base);
    snippets.push({ name: `${String(i + 1).padStart(2, "0")}-${base}.conf`, text: header([s]) + serializeNginx([s]), from: [at(s)] });
  });

  const legacy = new Map<string, string>([...canonicalSettings(effective), ...flatten(canonicalNginx("nginx http", httpRest)), ...flatten(canonicalServers(servers))]);
  for (const k of skip) legacy.delete(`nginx setting ${k}`);
  const { requires, blockers } = requirements(fact);
  blockers.push(...moduleBlockers(fact));
  for (const n of servesOther) {
    const listens = (n.block ?? []).filter((d) => d.name === "server").flatMap((srv) => (srv.block ?? []).filter((d) => d.name === "listen").map((d) => unquote(d.args[0] ?? "")));
    blockers.push({ kind: "platform-lacks", subject: `nginx ${n.name}`, detail: `${n.name} {} (${at(n)}${listens.length ? `, listening on ${listens.join(", ")}` : ""}) ${OTHER_PROTOCOLS[n.name]}; the platform's nginx (webgateway) serves HTTP only: run it as a service of its own, or give the platform a role for it` });
  }
  return { component: "nginx", role: "webgateway", settings, snippets, leftOut, secrets: [], legacy, requires, blockers };
}

function sameTypes(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([ext, type]) => b.get(ext) === type);
}

/**
 * A server block with what it inherited from the legacy http level (and the platform would
 * change) written in, unless it sets that itself; and nginx's default root under the legacy
 * prefix where nothing sets a root. First in the block, as the legacy http level came first.
 */
function withInherited(server: NginxNode, inherited: NginxNode[], httpRoot: boolean): NginxNode {
  const keepalive = inherited.find((n) => n.name === "keepalive_timeout");
  const block = keepalive ? withHeaderTimeout(server.block ?? [], keepalive.args[1]!) : (server.block ?? []);
  const own = new Set(block.map((d) => d.name));
  const add = inherited.filter((n) => !own.has(n.name));
  if (!httpRoot && !own.has("root")) add.push(node("root", [absolutePath("root", DEFAULT_ROOT, GENTOO_NGINX_BASES)!], { path: `nginx's default root (prefix ${GENTOO_NGINX.prefix})`, line: 0 }));
  return add.length ? { ...server, block: [...add, ...block] } : server;
}

/**
 * nginx keeps keepalive_timeout's two values apart: a server or location that sets only the
 * timeout still sends the Keep-Alive header value of the level above. Written out here, where
 * the platform's http level has none.
 */
function withHeaderTimeout(block: NginxNode[], header: string): NginxNode[] {
  const own = block.find((d) => d.name === "keepalive_timeout");
  const inner = own && own.args.length > 1 ? own.args[1]! : header;
  return block.map((d) =>
    d.name === "keepalive_timeout" && d.args.length === 1 ? { ...d, args: [d.args[0]!, header] } : d.block && (d.name === "location" || d.name === "if") ? { ...d, block: withHeaderTimeout(d.block, inner) } : d,
  );
}

/**
 * A directive (and its block) with every relative path written out as the legacy build resolved
 * it. A path that starts with a variable stays: nginx decides at run time where it points.
 */
function absolute(n: NginxNode): NginxNode {
  if (n.block) return { ...n, block: n.block.map(absolute) };
  const p = absolutePath(n.name, unquote(n.args[0] ?? ""), GENTOO_NGINX_BASES);
  return p ? { ...n, args: [quoteWord(p), ...n.args.slice(1)] } : n;
}

/**
 * What the new host needs of the legacy host's files: what the configuration reads (certificates,
 * keys, password files, with the symlinks they go through), the content it serves, and the
 * parents of the directories nginx creates itself (proxy_cache_path…). Content a package installed
 * is not data: a blocker names it.
 */
function requirements(fact: NginxFact): { requires: Requirement[]; blockers: Blocker[] } {
  const requires: Requirement[] = [];
  const blockers: Blocker[] = [];
  for (const p of fact.paths ?? []) {
    const directive = p.directive.replace(/ \(.*\)$/, "");
    if (CREATES_DIR.has(directive)) {
      const parent = path.posix.dirname(p.path);
      if (parent !== "/") requires.push({ path: parent, kind: "create", reason: `${directive} ${p.path}: nginx creates it at start, inside an existing directory`, from: p.from, bytes: 0 });
      continue;
    }
    if (p.type === "missing") continue; // missing on the legacy host too: nginx answers the same
    if (p.package) {
      blockers.push({ kind: "package-content", subject: `content of ${p.package.replace(/-\d.*$/, "")}`, detail: `${p.directive} ${p.path} (${p.from}) is installed by ${p.package}; the platform has no such package: package it, or carry it over as data`, path: p.path });
      continue;
    }
    if (p.private) {
      const legacyUser = unquote(fact.main_directives.find((d) => d.name === "user")?.args[0] ?? GENTOO_NGINX.user);
      blockers.push({ kind: "content-unreadable", subject: `content only the legacy nginx user can read`, detail: `${p.directive} ${p.path} (${p.from}): ${p.private.count} files or directories others cannot read, e.g. ${p.private.example}; the legacy workers read them as ${legacyUser}, the platform's run as settings.nginx.user (www-data): give that user read access when carrying it over (chgrp, chmod o+r, or an ACL)`, path: p.path });
    }
    const what = READS_FILE.has(directive) ? "nginx reads it" : "nginx serves it";
    for (const link of p.links) requires.push({ path: link, kind: "copy", reason: `${p.directive} ${p.path}: a symlink on the way to ${p.target}`, from: p.from, bytes: 0 });
    requires.push({ path: p.target, kind: "copy", reason: `${p.directive} ${p.path}: ${what}`, from: p.from, bytes: p.bytes });
  }
  return { requires, blockers };
}

/**
 * A server block without its log files: the platform keeps nginx's logs in <state>/log/nginx/,
 * and a path like /var/log/nginx/shop.access_log would make `nginx -t` open (and create) it on
 * the building machine, or fail where the directory does not exist. `access_log off` stays.
 */
function withoutLogFiles(n: NginxNode, leftOut: LeftOut[]): NginxNode {
  if (!n.block) return n;
  const block: NginxNode[] = [];
  for (const d of n.block) {
    const first = unquote(d.args[0] ?? "");
    if ((d.name === "access_log" || d.name === "error_log") && !d.block && first !== "off") {
      leftOut.push({ component: "nginx", key: d.name, value: d.args.map(unquote).join(" "), from: at(d), reason: "per-site log files: the platform logs every site to <state>/log/nginx/ (access.log, and the error log to the supervisor)" });
    } else block.push(withoutLogFiles(d, leftOut));
  }
  return { ...n, block };
}

/** The comparable side of the plan's nginx snippets (parsed with the component's parser). */
export function planHttp(nodes: NginxNode[]): Map<string, string> {
  const servers = nodes.filter((n) => n.name === "server");
  const rest = nodes.filter((n) => n.name !== "server");
  return new Map([...flatten(canonicalNginx("nginx http", rest)), ...flatten(canonicalServers(servers))]);
}

function canonical(k: string, v: Value): string {
  return canonicalSettings({ [k]: v }).get(`nginx setting ${k}`) ?? String(v);
}

function header(nodes: NginxNode[]): string {
  const where = [...new Set(nodes.filter((n) => n.line > 0).map((n) => at(n)))];
  return `# Migrated by congruent migrate plan from ${where.slice(0, 4).join(", ")}${where.length > 4 ? ", …" : ""}\n`;
}

export { serverKey };
