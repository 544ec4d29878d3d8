import { components } from "../components/registry.js";
import { at, type Conversion, type LeftOut, type Snippet } from "./conversion.js";
import { canonicalNginx, canonicalServers, flatten } from "./nginx-canonical.js";
import { serverKey } from "./nginx-config.js";
import { serializeNginx, unquote } from "../components/nginx/syntax.js";
import type { NginxFact, NginxNode } from "./types.js";
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

/** The values the platform's nginx.conf fixes at http level (see components/nginx/), compared as they are visible to clients. */
export const PLATFORM_HTTP: Record<string, string> = { default_type: "application/octet-stream" };

const OWNED_MAIN: Record<string, string> = {
  user: "workers run as the platform's user (settings.nginx.user, www-data): files they read must be readable by it",
  pid: "the platform keeps the pid file in <state>/run/nginx/",
  daemon: "the supervisor runs nginx in the foreground",
  master_process: "the supervisor runs nginx with its master process",
  worker_rlimit_nofile: "set by the platform's service definition",
  load_module: "modules are those of the platform's nginx build",
  include: "main-level includes (modules) belong to the platform's nginx build",
  pcre_jit: "set by the platform's nginx build",
  env: "the service environment is the platform's",
};
const OWNED_HTTP: Record<string, string> = {
  types: "the platform includes the distribution's mime.types",
  sendfile: "the platform sets sendfile on",
  server_names_hash_bucket_size: "the platform sets 128 (room for long server names)",
  client_body_temp_path: "temp files live in <state>/run/nginx/tmp/",
  proxy_temp_path: "temp files live in <state>/run/nginx/tmp/",
  fastcgi_temp_path: "temp files live in <state>/run/nginx/tmp/",
  uwsgi_temp_path: "temp files live in <state>/run/nginx/tmp/",
  scgi_temp_path: "temp files live in <state>/run/nginx/tmp/",
};

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

/**
 * Turn the legacy nginx configuration into the webgateway role: settings the component
 * knows, one snippet per server block (in the legacy order, includes inlined so each snippet
 * stands alone), one `00-http.conf` with the other http-level directives (upstream, map,
 * log_format…), and the directives the platform owns, left out with the reason.
 */
export function convertNginx(fact: NginxFact): Conversion {
  const leftOut: LeftOut[] = [];
  const leave = (n: NginxNode, reason: string) => leftOut.push({ component: "nginx", key: n.name, value: n.args.map(unquote).join(" "), from: at(n), reason });
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
    leave(n, "the platform writes the error log to the supervisor's log; only the level is kept (settings.nginx.error_log_level)");
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
    else leave(n, OWNED_MAIN[n.name] ?? "main-level directive the platform's nginx.conf does not take");
  }
  for (const n of fact.events) {
    if (n.name === "worker_connections" && /^\d+$/.test(n.args[0] ?? "")) set("worker_connections", Number(n.args[0]), n);
    else leave(n, "the events block belongs to the platform (only worker_connections is a setting)");
  }

  const copied: NginxNode[] = [];
  for (const n of fact.http) {
    const a0 = unquote(n.args[0] ?? "");
    if (n.name === "keepalive_timeout") {
      const s = nginxSeconds(a0);
      if (s !== undefined) set("keepalive_timeout", s, n);
      else leave(n, "not a whole number of seconds");
      if (n.args.length > 1) leftOut.push({ component: "nginx", key: "keepalive_timeout (header timeout)", value: unquote(n.args[1]!), from: at(n), reason: "settings.nginx.keepalive_timeout has no Keep-Alive header value" });
    } else if (n.name === "client_max_body_size") set("client_max_body_size", a0, n);
    else if (n.name === "server_tokens" && (a0 === "on" || a0 === "off")) set("server_tokens", a0 === "on", n);
    else if (n.name === "gzip" && (a0 === "on" || a0 === "off")) set("gzip", a0 === "on", n);
    else if (n.name === "access_log") {
      set("access_log", a0 !== "off", n);
      if (a0 !== "off") leave(n, "the platform logs to <state>/log/nginx/access.log in the combined format; settings.nginx.access_log keeps it on");
    } else if (n.name === "error_log") errorLog(n);
    else if (n.name in OWNED_HTTP) leave(n, OWNED_HTTP[n.name]!);
    else if (n.name === "include") leave(n, "an include that could not be expanded");
    else copied.push(n);
  }

  // Only what differs from the component's defaults goes into the description; the rest is implied.
  const settings: Record<string, Value> = {};
  const specs = spec();
  for (const [k, v] of Object.entries(effective)) {
    const s = specs[k];
    if (!s) continue;
    const problem = checkValue(s, v);
    if (problem) {
      skip.add(k);
      leftOut.push({ component: "nginx", key: k, value: String(v), ...(from[k] ? { from: from[k] } : {}), reason: `settings.nginx.${k} does not take it: ${problem}` });
      continue;
    }
    if (canonical(k, v) !== canonical(k, s.default)) settings[k] = v;
  }

  const snippets: Snippet[] = [];
  const copiedDefaultType = copied.filter((n) => n.name === "default_type");
  const httpRest = copied.filter((n) => n.name !== "default_type");
  for (const n of copiedDefaultType) {
    const v = unquote(n.args[0] ?? "");
    if (v !== PLATFORM_HTTP.default_type) leave(n, `the platform sets default_type ${PLATFORM_HTTP.default_type}; a second default_type would be a duplicate`);
  }
  if (httpRest.length) {
    snippets.push({ name: "00-http.conf", text: header(httpRest) + serializeNginx(httpRest), from: [...new Set(httpRest.map((n) => n.path))] });
  }
  const used = new Set<string>();
  const servers = fact.servers.map((srv) => withoutLogFiles(srv, leftOut));
  servers.forEach((s, i) => {
    const names = (s.block ?? []).find((d) => d.name === "server_name")?.args.map(unquote) ?? [];
    let base = (names.find((x) => x !== "_" && x !== "") ?? "default").replace(/^[*.]+/, "").replace(/[^A-Za-z0-9._-]/g, "_");
    while (used.has(base)) base += "_";
    used.add(base);
    snippets.push({ name: `${String(i + 1).padStart(2, "0")}-${base}.conf`, text: header([s]) + serializeNginx([s]), from: [at(s)] });
  });

  const legacy = new Map<string, string>([...canonicalSettings(effective), ...legacyHttp(httpRest, copiedDefaultType), ...flatten(canonicalServers(servers))]);
  for (const k of skip) legacy.delete(`nginx setting ${k}`);
  return { component: "nginx", role: "webgateway", settings, snippets, leftOut, secrets: [], legacy };
}

/**
 * A server block without its log files: the platform keeps nginx's logs in <state>/log/nginx/,
 * and a path like /var/log/nginx/shop.access_log would make `nginx -t` open (and create) it on
 * the building machine, or fail where the directory does not exist. `access_log off` stays.
 */
function withoutLogFiles(node: NginxNode, leftOut: LeftOut[]): NginxNode {
  if (!node.block) return node;
  const block: NginxNode[] = [];
  for (const d of node.block) {
    const first = unquote(d.args[0] ?? "");
    if ((d.name === "access_log" || d.name === "error_log") && !d.block && first !== "off") {
      leftOut.push({ component: "nginx", key: d.name, value: d.args.map(unquote).join(" "), from: at(d), reason: "per-site log files: the platform logs every site to <state>/log/nginx/ (access.log, and the error log to the supervisor)" });
    } else block.push(withoutLogFiles(d, leftOut));
  }
  return { ...node, block };
}

function legacyHttp(rest: NginxNode[], defaultType: NginxNode[]): Map<string, string> {
  const out = flatten(canonicalNginx("nginx http", rest));
  out.set("nginx http › default_type", defaultType.length ? unquote(defaultType[defaultType.length - 1]!.args[0] ?? "") : "text/plain");
  return out;
}

/** The comparable side of the plan's nginx snippets (parsed with the same parser). */
export function planHttp(nodes: NginxNode[]): Map<string, string> {
  const servers = nodes.filter((n) => n.name === "server");
  const rest = nodes.filter((n) => n.name !== "server");
  const out = new Map([...flatten(canonicalNginx("nginx http", rest)), ...flatten(canonicalServers(servers))]);
  out.set("nginx http › default_type", PLATFORM_HTTP.default_type!);
  return out;
}

function canonical(k: string, v: Value): string {
  return canonicalSettings({ [k]: v }).get(`nginx setting ${k}`) ?? String(v);
}

function checkValue(s: { type: string; min?: number; max?: number; values?: readonly string[]; check?: (v: unknown) => string | undefined }, v: Value): string | undefined {
  if (s.type === "integer" && (typeof v !== "number" || (s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max))) return `expected an integer ${s.min ?? ""}–${s.max ?? ""}`;
  if (s.type === "boolean" && typeof v !== "boolean") return "expected on or off";
  if (s.values && !s.values.includes(String(v))) return `expected one of ${s.values.join(", ")}`;
  return s.check?.(v);
}

function header(nodes: NginxNode[]): string {
  const where = [...new Set(nodes.map((n) => at(n)))];
  return `# Migrated by congruent migrate plan from ${where.slice(0, 4).join(", ")}${where.length > 4 ? ", …" : ""}\n`;
}

export { serverKey };
