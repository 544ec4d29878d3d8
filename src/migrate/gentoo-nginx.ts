/**
 * How Gentoo's www-servers/nginx ebuild builds nginx (its ./configure flags and the directories it
 * keeps): what the legacy host's nginx does wherever its configuration says nothing. Relative
 * paths resolve against `prefix` (or `confPrefix`); the platform's nginx has another prefix.
 */
export const GENTOO_NGINX = {
  prefix: "/usr/",
  confPrefix: "/etc/nginx/",
  conf: "/etc/nginx/nginx.conf",
  pid: "/run/nginx.pid",
  user: "nginx",
  group: "nginx",
  /** --http-*-temp-path: nginx creates the last directory at start, the ebuild keeps the rest. */
  tempPaths: ["/var/lib/nginx/tmp/client", "/var/lib/nginx/tmp/proxy", "/var/lib/nginx/tmp/fastcgi", "/var/lib/nginx/tmp/scgi", "/var/lib/nginx/tmp/uwsgi"],
  errorLog: "/var/log/nginx/error_log",
  accessLog: "/var/log/nginx/access_log",
} as const;

/** `{ prefix, conf }` for the component's path rules (paths.ts). */
export const GENTOO_NGINX_BASES = { prefix: GENTOO_NGINX.prefix, conf: GENTOO_NGINX.confPrefix };
