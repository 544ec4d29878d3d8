import { readFileSync } from "node:fs";
import { parseNginx, unquote } from "./syntax.js";

/**
 * What the platform's nginx.conf (index.ts, renderConf) fixes around the customer's snippets,
 * each with the reason. The one list: the build writes these lines, migrate leaves a legacy
 * host's own values of them out and says why (or carries them into its server blocks).
 */
export interface PlatformDirective {
  reason: string;
  /** The host setting (settings.nginx.<name>) that carries the value, when one does. */
  setting?: string;
  /** The value the platform writes, for directives no setting carries. */
  value?: string;
  /** True when the effect reaches clients (headers, content types, bodies): a different legacy value must be carried. */
  visible?: boolean;
}

export const PLATFORM_MAIN: Readonly<Record<string, PlatformDirective>> = {
  daemon: { reason: "the supervisor runs nginx in the foreground" },
  user: { reason: "workers run as the platform's user (settings.nginx.user, www-data): files they read must be readable by it", setting: "user" },
  worker_processes: { reason: "settings.nginx.worker_processes", setting: "worker_processes" },
  pid: { reason: "the platform keeps the pid file in <state>/run/nginx/" },
  error_log: { reason: "the platform writes the error log to the supervisor's log; only the level is kept (settings.nginx.error_log_level)", setting: "error_log_level" },
};

export const PLATFORM_EVENTS: Readonly<Record<string, PlatformDirective>> = {
  worker_connections: { reason: "settings.nginx.worker_connections", setting: "worker_connections" },
};

const TEMP = "temp files live in <state>/run/nginx/tmp/";

export const PLATFORM_HTTP: Readonly<Record<string, PlatformDirective>> = {
  types: { reason: "the platform includes the distribution's mime.types", visible: true },
  default_type: { reason: "the platform sets default_type application/octet-stream", value: "application/octet-stream", visible: true },
  access_log: { reason: "the platform logs to <state>/log/nginx/access.log in the combined format (settings.nginx.access_log)", setting: "access_log" },
  sendfile: { reason: "the platform sets sendfile on", value: "on" },
  server_tokens: { reason: "settings.nginx.server_tokens", setting: "server_tokens", visible: true },
  keepalive_timeout: { reason: "settings.nginx.keepalive_timeout (seconds; no Keep-Alive header value)", setting: "keepalive_timeout", visible: true },
  client_max_body_size: { reason: "settings.nginx.client_max_body_size", setting: "client_max_body_size", visible: true },
  server_names_hash_bucket_size: { reason: "the platform sets 128 (room for long server names)", value: "128" },
  gzip: { reason: "settings.nginx.gzip", setting: "gzip", visible: true },
  client_body_temp_path: { reason: TEMP },
  proxy_temp_path: { reason: TEMP },
  fastcgi_temp_path: { reason: TEMP },
  uwsgi_temp_path: { reason: TEMP },
  scgi_temp_path: { reason: TEMP },
};

/**
 * The content types of the platform's nginx (the distribution's mime.types, which the build
 * copies into every generation): extension → type.
 */
export function platformTypes(file = "/etc/nginx/mime.types"): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return new Map();
  }
  const types = parseNginx(text, file).nodes.find((n) => n.name === "types");
  return typesMap(types?.block ?? []);
}

/** The entries of a `types {}` block as nginx keeps them: extension → type, a later entry winning. */
export function typesMap(entries: { name: string; args: string[] }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) for (const ext of e.args) out.set(unquote(ext).toLowerCase(), e.name);
  return out;
}
