/**
 * Which nginx directives name a file or directory, and what a relative one is relative to, as
 * nginx resolves it (ngx_conf_full_name): the *prefix* (`-p`, `--prefix` of the build) or the
 * *configuration prefix* (the directory of nginx.conf). The same relative text means another
 * place under another build, so migrate writes them out absolute.
 */
export type PathBase = "prefix" | "conf";

const PREFIX = ["root", "alias", "access_log", "error_log", "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path", "proxy_cache_path", "fastcgi_cache_path", "uwsgi_cache_path", "scgi_cache_path", "pid", "lock_file", "working_directory", "load_module"];
const CONF = [
  "include", "auth_basic_user_file", "ssl_certificate", "ssl_certificate_key", "ssl_dhparam", "ssl_trusted_certificate", "ssl_client_certificate", "ssl_crl", "ssl_password_file",
  "ssl_session_ticket_key", "ssl_stapling_file", "proxy_ssl_certificate", "proxy_ssl_certificate_key", "proxy_ssl_trusted_certificate", "proxy_ssl_crl", "proxy_ssl_password_file",
  "grpc_ssl_certificate", "grpc_ssl_certificate_key", "grpc_ssl_trusted_certificate", "uwsgi_ssl_certificate", "uwsgi_ssl_certificate_key", "uwsgi_ssl_trusted_certificate", "xslt_stylesheet",
];

/** The base a directive's first argument is relative to, when it names a path. */
export const PATH_DIRECTIVES: ReadonlyMap<string, PathBase> = new Map([...PREFIX.map((d) => [d, "prefix"] as const), ...CONF.map((d) => [d, "conf"] as const)]);

/** Values of a path directive that name no file: `access_log off`, `error_log stderr`, `syslog:server=…`. */
function namesNoFile(value: string): boolean {
  return value === "off" || value === "stderr" || /^(syslog|memory):/.test(value) || value.startsWith("data:") || value.startsWith("engine:");
}

/**
 * The directive's path made absolute against `bases` (`{ prefix: "/usr/", conf: "/etc/nginx/" }`),
 * or undefined when it already is, names no file, or starts with a variable (which may expand to
 * an absolute path: nginx decides at run time).
 *
 * @example absolutePath("root", "html", { prefix: "/usr/", conf: "/etc/nginx/" }) // "/usr/html"
 */
export function absolutePath(directive: string, value: string, bases: Record<PathBase, string>): string | undefined {
  const base = PATH_DIRECTIVES.get(directive);
  if (!base || value === "" || value.startsWith("/") || value.startsWith("$") || namesNoFile(value)) return undefined;
  return bases[base].replace(/\/?$/, "/") + value;
}

/** Directives naming a file the configuration reads and that must exist where it runs (certificates, keys, password files). */
export const READS_FILE: ReadonlySet<string> = new Set(CONF.filter((d) => d !== "include"));

/** Directives whose path nginx creates at start (the last directory only: the parent must exist). */
export const CREATES_DIR = new Set(["client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path", "proxy_cache_path", "fastcgi_cache_path", "uwsgi_cache_path", "scgi_cache_path"]);

/** nginx's default `root` when none is given: `html`, relative to the prefix. */
export const DEFAULT_ROOT = "html";
