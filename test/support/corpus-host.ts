import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { userIds } from "../../src/components/support/server-user.js";
import { base, tuning, type FleetHost, type NginxEntry } from "./corpus.js";
import { writeLegacyHost, type LegacyHostInfo } from "./legacy-host.js";

/**
 * A legacy host of the fleet: writeLegacyHost's Gentoo tree with one corpus configuration in it
 * as an admin would have deployed it (the vhost in conf.d/, vhosts.d/ or sites-enabled/, the
 * stock nginx.conf edited a little differently on each host), the content its roots serve, the
 * certificates, password files and cache directories it names, the applications behind it
 * (deployed by git, by Capistrano, or copied by hand), and the PostgreSQL and Redis tunings and
 * services the fleet manifest gives it.
 */
interface Tls {
  cert: string;
  key: string;
  dhparam: string;
}

let tls: Tls | undefined;

/** One self-signed certificate for the whole fleet (openssl, made once per test run). */
export function testTls(): Tls {
  if (tls) return tls;
  const dir = mkdtempSync(path.join(os.tmpdir(), "corpus-tls-"));
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=legacy.example.com", "-keyout", key, "-out", cert], { stdio: "ignore" });
  const dhparam = path.join(dir, "dhparam.pem");
  execFileSync("openssl", ["dhparam", "-dsaparam", "-out", dhparam, "2048"], { stdio: "ignore" });
  tls = { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8"), dhparam: readFileSync(dhparam, "utf8") };
  return tls;
}

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
const ICO = Buffer.from("00000100010010100000010020006804000016000000", "hex");

/** Absolute paths named by a directive in some text, `set $var value` substituted. */
function named(texts: string[], directive: string): string[] {
  const vars = new Map<string, string>();
  for (const t of texts) for (const m of t.matchAll(/^\s*set\s+\$(\w+)\s+([^;\s]+);/gm)) if (!m[2]!.includes("$")) vars.set(m[1]!, m[2]!);
  const out: string[] = [];
  for (const t of texts) {
    for (const m of t.matchAll(new RegExp(`^\\s*${directive}\\s+("[^"]+"|'[^']+'|[^;\\s]+)`, "gm"))) {
      const v = m[1]!.replace(/^["']|["']$/g, "").replace(/\$(\w+)/g, (all, n: string) => vars.get(n) ?? all);
      if (!v.includes("$")) out.push(v.startsWith("/") ? v : directive === "root" || directive === "alias" ? `/usr/${v}` : `/etc/nginx/${v}`);
    }
  }
  return [...new Set(out)];
}

/** Location prefixes a configuration names (`location /static/`), for content that reaches them. */
const prefixes = (texts: string[]) => [...new Set(texts.flatMap((t) => [...t.matchAll(/location\s+(?:\^~\s+)?(\/[A-Za-z0-9_.-]+\/?)\s*\{/g)].map((m) => m[1]!)))];

/** The application a served path belongs to: its first two levels under /var/www, /srv, /opt, /home. */
function appOf(p: string): string | undefined {
  const m = /^(\/(?:var\/www|srv|opt|home)\/[^/]+)/.exec(p) ?? /^(\/[^/]+)\//.exec(p);
  return m && !/^\/(usr|etc|dev|run|tmp|var)$/.test(m[1]!) ? m[1] : undefined;
}

export function writeCorpusHost(root: string, h: FleetHost, entry: NginxEntry, index: number): LegacyHostInfo {
  const files: Record<string, string | Buffer> = {};
  const links: Record<string, string> = {};
  const accounts: string[] = [];
  const texts = [entry.text, ...Object.values(entry.files)];

  // nginx.conf: the corpus file itself, or Gentoo's stock one as this admin edited it, including the vhost.
  let conf: string;
  const nginxFiles: Record<string, string> = { ...entry.files };
  if (entry.kind === "main") conf = entry.text;
  else {
    const placement = index % 3;
    const vhost = placement === 0 ? `/etc/nginx/conf.d/${entry.name}.conf` : placement === 1 ? `/etc/nginx/vhosts.d/${entry.name}.conf` : `/etc/nginx/sites-available/${entry.name}`;
    const include = placement === 0 ? "include /etc/nginx/conf.d/*.conf;" : placement === 1 ? "include vhosts.d/*.conf;" : "include /etc/nginx/sites-enabled/*;";
    if (placement === 2) links[`/etc/nginx/sites-enabled/${entry.name}`] = `../sites-available/${entry.name}`;
    nginxFiles[vhost] = entry.text;
    let stock = base("nginx.conf");
    // Gentoo's own localhost server stays on one host in four: the admin's site in /var/www/localhost.
    if (index % 4 !== 0) stock = stock.replace(/\n\tserver \{\n\t\tlisten 127\.0\.0\.1;[\s\S]*?\n\t\}\n/, "\n");
    else files["/var/www/localhost/htdocs/index.html"] = `<h1>${h.host}: the admin's own page</h1>\n`;
    // Each admin tuned the stock file a little: more workers, bigger uploads, gzip, a shorter keep-alive.
    const tweak = index % 5;
    if (tweak === 1) stock = stock.replace("worker_processes 1;", "worker_processes 2;");
    if (tweak === 2) stock = stock.replace("\tindex index.html;", "\tindex index.html;\n\tclient_max_body_size 32m;\n\tserver_tokens off;");
    if (tweak === 3) stock = stock.replace("\tgzip off;", "\tgzip on;");
    if (tweak === 4) stock = stock.replace("keepalive_timeout 75 20;", "keepalive_timeout 65;");
    conf = stock.replace(/\n\}\n?$/, `\n\t${include}\n}\n`);
  }

  // Content under every root and alias, and below the locations' prefixes.
  const dirs = [...named(texts, "root"), ...named(texts, "alias")].filter((d) => !/^\/(dev|run|var\/run|tmp)\//.test(d));
  // Where an application keeps what its users upload is empty on a fresh install (uploads: a host that has some).
  const runtime = (d: string) => /\/(media|uploads?|files|data|cache|tmp|logs?|sessions|storage|var)\/?$/.test(d);
  for (const d of dirs.filter((x) => !runtime(x))) {
    const id = `${h.host} ${d}`;
    files[`${d}/index.html`] = `<!doctype html><title>${id}</title><h1>${id}</h1>\n`;
    files[`${d}/robots.txt`] = "User-agent: *\nDisallow: /private/\n";
    files[`${d}/favicon.ico`] = ICO;
    files[`${d}/css/site.css`] = `body { font-family: sans-serif; } /* ${id} */\n`.repeat(20);
    files[`${d}/js/app.js`] = `console.log(${JSON.stringify(id)});\n`.repeat(30);
    files[`${d}/img/logo.png`] = PNG;
    files[`${d}/docs/guide.txt`] = `${id}\n`.repeat(40);
    files[`${d}/fonts/a.woff2`] = Buffer.alloc(600, 7);
    files[`${d}/.htaccess`] = "Deny from all\n";
    files[`${d}/about/index.html`] = `<p>about ${id}</p>\n`;
    for (const e of ["404.html", "500.html", "502.html", "50x.html"]) files[`${d}/${e}`] = `<h1>${e.slice(0, 3)}</h1>\n`;
    if (/fastcgi_pass|uwsgi_pass/.test(texts.join("\n"))) files[`${d}/index.php`] = "<?php echo 'served by php-fpm';\n";
    for (const p of prefixes(texts)) {
      const dir = `${d}${p.replace(/\/$/, "")}`;
      if (p.length > 1 && !/\.[a-z]+$/.test(p) && !runtime(dir) && !(dir in files)) files[`${dir}/app.css`] = `/* ${p} of ${id} */\n`;
    }
  }
  // The legacy nginx wrote its logs somewhere, and made its caches; the directories exist on the host.
  // Gentoo's baselayout: /run is a tmpfs (empty in a copy), /var/run a link to it.
  const dirsOnHost = new Set<string>(["/run"]);
  links["/var/run"] = "../run";
  for (const l of [...named(texts, "access_log"), ...named(texts, "error_log")]) if (!/^\/(etc\/nginx\/)?(off|stderr|syslog:.*)$/.test(l) && !l.startsWith("/tmp/")) dirsOnHost.add(path.posix.dirname(l.replace(/^\/etc\/nginx\//, "/usr/")));

  // Certificates, keys, DH parameters and password files the configuration names.
  const t = testTls();
  for (const p of [...named(texts, "ssl_certificate"), ...named(texts, "ssl_trusted_certificate"), ...named(texts, "ssl_client_certificate")]) placeFile(p, t.cert, files, links);
  for (const p of named(texts, "ssl_certificate_key")) placeFile(p, t.key, files, links);
  // PostgreSQL's own certificate and key, where its tuning serves TLS.
  const pgTls = h.postgresql ? tuning("postgresql", h.postgresql) : "";
  const pgKeys: string[] = [];
  for (const m of pgTls.matchAll(/^\s*ssl_(cert|key|ca)_file\s*=\s*'(\/[^']+)'/gm)) {
    files[m[2]!] = m[1] === "key" ? t.key : t.cert;
    if (m[1] === "key") pgKeys.push(m[2]!);
  }
  for (const p of named(texts, "ssl_dhparam")) placeFile(p, t.dhparam, files, links);
  for (const p of named(texts, "auth_basic_user_file")) files[p] = "admin:{PLAIN}secret\n";
  for (const m of texts.join("\n").matchAll(/proxy_cache_path\s+(\/\S+)/g)) dirsOnHost.add(m[1]!);
  // Upstream sockets live in the applications' runtime directories.
  for (const m of texts.join("\n").matchAll(/unix:(\/[^\s;:]+)/g)) {
    const dir = path.posix.dirname(path.posix.normalize(m[1]!));
    if (!/^\/(tmp|run|var\/run)(\/|$)/.test(dir)) dirsOnHost.add(dir);
  }

  // The workers' account, and the people whose homes hold applications.
  for (const m of texts.join("\n").matchAll(/^\s*user\s+(\w+)/gm)) if (!["nginx", "nobody"].includes(m[1]!)) accounts.push(`${m[1]}:x:${800 + index}:${800 + index}:${m[1]}:/var/empty:/sbin/nologin`);
  const apps = new Set(dirs.map(appOf).filter((a): a is string => Boolean(a)));
  let uid = 1100;
  for (const a of apps) {
    const home = /^\/home\/([^/]+)$/.exec(a);
    if (home) accounts.push(`${home[1]}:x:${uid}:${uid}:${home[1]}:${a}:/bin/bash`);
    uid++;
    const style = (index + uid) % 3;
    if (style === 0) files[`${a}/.git/HEAD`] = "ref: refs/heads/main\n";
    else if (style === 1) files[`${a}/REVISION`] = "4f1c2e9\n";
    if (/\.php/.test(texts.join("\n"))) {
      // A PHP application's own code, in directories named like data (class 8: an app's apps/files).
      files[`${a}/apps/files/appinfo/info.xml`] = "<info><id>files</id></info>\n";
      files[`${a}/apps/files/lib/Controller/ViewController.php`] = "<?php namespace OCA\\Files\\Controller; class ViewController {}\n";
      files[`${a}/lib/cache/Cache.php`] = "<?php class Cache {}\n";
    }
    if (h.uploads) files[`${a}/files/2024/05/attachment-1.pdf`] = Buffer.alloc(12_000, 5);
  }

  const info = writeLegacyHost(root, {
    hostname: h.host,
    services: { nginx: true, postgresql: Boolean(h.postgresql), redis: Boolean(h.redis), memcached: Boolean(h.memcached), php: Boolean(h.php) },
    nginx: {
      conf,
      files: nginxFiles,
      packageFiles: { "/etc/nginx/mime.types": base("mime.types"), "/etc/nginx/fastcgi_params": base("fastcgi_params"), "/etc/nginx/fastcgi.conf": base("fastcgi.conf"), "/etc/nginx/uwsgi_params": base("uwsgi_params"), "/etc/nginx/scgi_params": base("scgi_params") },
    },
    ...(h.postgresql ? { postgresql: { conf: `# ${h.host}: postgresql.conf (emerge --config, then tuned)\ndata_directory = '/var/lib/postgresql/15/data'\nhba_file = '/etc/postgresql-15/pg_hba.conf'\nlisten_addresses = 'localhost'\nunix_socket_directories = '/run/postgresql'\n${tuning("postgresql", h.postgresql)}`, auto: null } } : {}),
    ...(h.redis ? { redisConf: `# ${h.host}: redis.conf\nbind 127.0.0.1 -::1\nport 6379\ndaemonize no\npidfile /run/redis/redis.pid\nlogfile /var/log/redis/redis.log\ndir /var/lib/redis/\n${tuning("redis", h.redis)}` } : {}),
    ...(h.memcached ? { memcachedConfd: `MEMUSAGE="${64 * (1 + (index % 3))}"\nMAXCONN="${1024 * (1 + (index % 2))}"\nLISTENON="127.0.0.1"\nPORT="11211"\nUDPPORT="0"\nTHREADS="${2 + (index % 3)}"\nMISC_OPTS="${["", "-o modern -R 40", "-C -vv", "-c 4096 -M"][index % 4]}"\n` } : {}),
    shop: false,
    homeSoftware: false,
    files,
    links,
    dirs: [...dirsOnHost],
    accounts,
  });
  // As PostgreSQL demands of its key: the database user's, 0600 (a copy keeps owner and mode).
  for (const k of pgKeys) {
    chownSync(path.join(root, k), userIds("postgres").uid, userIds("postgres").gid);
    chmodSync(path.join(root, k), 0o600);
  }
  return info;
}

/** A certificate file, the way its path says it was made: Let's Encrypt's live/ links into archive/. */
function placeFile(p: string, content: string, files: Record<string, string | Buffer>, links: Record<string, string>): void {
  const le = /^(\/etc\/letsencrypt)\/live\/([^/]+)\/([a-z]+)\.pem$/.exec(p);
  if (le) {
    files[`${le[1]}/archive/${le[2]}/${le[3]}1.pem`] = content;
    links[p] = `../../archive/${le[2]}/${le[3]}1.pem`;
  } else files[p] = content;
}
