import { createHash } from "node:crypto";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * Writes a realistic legacy Gentoo + Puppet host into a directory: the installed-package
 * database with real category/name-version spellings and CONTENTS (md5 and mtime of every
 * file), the world file, make.conf, OpenRC runlevels and conf.d, Puppet's state, nginx with a
 * hand-edited nginx.conf and vhosts, PostgreSQL 15 with a data directory, Redis, memcached,
 * php-fpm (no Congruent role), crontabs, homes (a virtualenv on the system python, a binary
 * loaded by the system's dynamic linker), an application that writes into its install tree.
 * Parameterised so the benchmark can grow it to 1 000 packages and 50 000 CONTENTS entries.
 */
export interface LegacyHostOptions {
  hostname?: string;
  /** Total installed packages; filler packages are added to reach it (default: only the real ones). */
  packages?: number;
  /** CONTENTS entries per filler package (default 12). */
  entriesPerFiller?: number;
  /** Write the files CONTENTS lists below /usr too (default true); /etc files are always written. */
  writeUsrFiles?: boolean;
  /** Which services the host runs (default: all). */
  services?: Partial<Record<"nginx" | "postgresql" | "redis" | "memcached" | "php", boolean>>;
  /** Bad input to plant, each reported per item by the inventory. */
  broken?: { missingVdbEntry?: boolean; unreadableContents?: boolean; malformedContents?: boolean; badNginx?: boolean };
  /**
   * Another host's configuration instead of this file's web17 (the corpus): nginx.conf as the
   * admin left it, the files it includes (host path → text), and the package's own files
   * (mime.types, fastcgi_params…) as the legacy nginx installed them.
   */
  nginx?: { conf: string; files: Record<string, string>; packageFiles?: Record<string, string> };
  /** postgresql.conf (and postgresql.auto.conf; null: none) instead of web17's. */
  postgresql?: { conf: string; auto?: string | null };
  /** redis.conf instead of web17's. */
  redisConf?: string;
  /** /etc/conf.d/memcached instead of web17's. */
  memcachedConfd?: string;
  /** web17's shop (/var/www/shop with uploads, /srv/static, the shop's cron jobs); default true. */
  shop?: boolean;
  /** alice's virtualenv and bob's binary in their homes (blockers); default true. */
  homeSoftware?: boolean;
  /** More files (host path → content), symlinks (host path → target) and accounts (passwd lines). */
  files?: Record<string, string | Buffer>;
  links?: Record<string, string>;
  /** Empty directories (log, socket and cache directories a running host has). */
  dirs?: string[];
  accounts?: string[];
}

export interface LegacyHostInfo {
  root: string;
  hostname: string;
  packages: number;
  contentsEntries: number;
  /** Where the planted bad input is (file and line), for assertions. */
  planted: { malformedContents?: { path: string; line: number }; badNginx?: { path: string; line: number }; missingVdbEntry?: string; unreadableContents?: string };
}

const MTIME = 1_696_000_000;
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

interface Pkg {
  atom: string;
  slot?: string;
  use?: string;
  /** host path → content ("" for a directory-only package); `null` content = symlink target in `links`. */
  files: Record<string, string>;
  links?: Record<string, string>;
  /** Content actually on disk when it differs from what CONTENTS recorded (hand-edited). */
  edited?: Record<string, string>;
}

const NGINX_CONF_PRISTINE = `user nginx nginx;
worker_processes 1;

error_log /var/log/nginx/error_log info;

events {
	worker_connections 1024;
	use epoll;
}

http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;

	log_format main
		'$remote_addr - $remote_user [$time_local] '
		'"$request" $status $bytes_sent '
		'"$http_referer" "$http_user_agent" '
		'"$gzip_ratio"';

	client_header_timeout 10m;
	client_body_timeout 10m;
	send_timeout 10m;

	connection_pool_size 256;
	client_header_buffer_size 1k;
	large_client_header_buffers 4 2k;
	request_pool_size 4k;

	gzip off;

	output_buffers 1 32k;
	postpone_output 1460;

	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;

	keepalive_timeout 75 20;

	ignore_invalid_headers on;

	index index.html;

	server {
		listen 127.0.0.1;
		server_name localhost;

		access_log /var/log/nginx/localhost.access_log main;
		error_log /var/log/nginx/localhost.error_log info;

		root /var/www/localhost/htdocs;
	}
}
`;

// The admin's version: more workers, bigger uploads, no version in headers, an upstream for
// php-fpm, and the vhosts included instead of the example server.
const NGINX_CONF_EDITED = `user nginx nginx;
worker_processes 2;

error_log /var/log/nginx/error_log info;

events {
	worker_connections 2048;
	use epoll;
}

http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;

	log_format main
		'$remote_addr - $remote_user [$time_local] '
		'"$request" $status $bytes_sent '
		'"$http_referer" "$http_user_agent" '
		'"$gzip_ratio"';

	client_header_timeout 10m;
	client_body_timeout 10m;
	send_timeout 10m;

	connection_pool_size 256;
	client_header_buffer_size 1k;
	large_client_header_buffers 4 2k;
	request_pool_size 4k;

	gzip off;

	output_buffers 1 32k;
	postpone_output 1460;

	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;

	keepalive_timeout 75 20;

	ignore_invalid_headers on;

	index index.html;
	client_max_body_size 32m; # uploads of product photos (ticket 4711)
	server_tokens off;

	upstream php {
		server 127.0.0.1:9000;
	}

	include /etc/nginx/conf.d/*.conf;
	include vhosts.d/*.conf;
}
`;

const MIME_TYPES = `types {
    text/html                             html htm shtml;
    text/css                              css;
    text/xml                              xml;
    image/gif                             gif;
    image/jpeg                            jpeg jpg;
    application/javascript                js;
    application/json                      json;
    image/png                             png;
    image/svg+xml                         svg svgz;
}
`;

const FASTCGI_PARAMS = `fastcgi_param  QUERY_STRING       $query_string;
fastcgi_param  REQUEST_METHOD     $request_method;
fastcgi_param  CONTENT_TYPE       $content_type;
fastcgi_param  CONTENT_LENGTH     $content_length;
fastcgi_param  SCRIPT_NAME        $fastcgi_script_name;
fastcgi_param  REQUEST_URI        $request_uri;
fastcgi_param  DOCUMENT_URI       $document_uri;
fastcgi_param  DOCUMENT_ROOT      $document_root;
fastcgi_param  SERVER_PROTOCOL    $server_protocol;
fastcgi_param  REMOTE_ADDR        $remote_addr;
fastcgi_param  SERVER_NAME        $server_name;
`;

const SHOP_VHOST = `# shop.example.com: the customer's shop (php-fpm)
server {
	listen 80;
	server_name shop.example.com www.shop.example.com;
	root /var/www/shop/public;
	index index.php index.html;
	access_log /var/log/nginx/shop.access_log main;
	error_log /var/log/nginx/shop.error_log;

	location / {
		try_files $uri $uri/ /index.php?$query_string;
	}

	location ~ \\.php$ {
		include fastcgi_params;
		fastcgi_pass php;
		fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
	}

	location /uploads/ {
		expires 30d;
		add_header Cache-Control "public, max-age=2592000";
	}
}
`;

const STATIC_VHOST = `server {
	listen 8080;
	server_name static.example.com;
	root /srv/static;
	location / {
		add_header X-Served-By "web17" always;
	}
}
`;

const STATUS_CONF = `server {
	listen 127.0.0.1:8081;
	server_name localhost;
	location = /health { return 200 "ok\\n"; }
}
`;

// Line 7 closes a block that was never opened: nginx -t says 'unexpected "}"'.
const BROKEN_VHOST = `server {
	listen 80;
	server_name broken.example.com;
	location / {
		root /srv/broken;
	}
	}
}
`;

const PG_CONF = `# PostgreSQL 15 configuration (emerge --config dev-db/postgresql:15, then tuned by hand)
data_directory = '/var/lib/postgresql/15/data'
hba_file = '/etc/postgresql-15/pg_hba.conf'
listen_addresses = 'localhost'
port = 5432
max_connections = 200
unix_socket_directories = '/run/postgresql'
shared_buffers = 512MB
work_mem = 16MB
maintenance_work_mem = 128MB
effective_cache_size = 2GB
wal_level = replica
checkpoint_completion_target = 0.9
max_wal_size = 1GB
random_page_cost = 1.1
autovacuum = off
log_min_duration_statement = 500ms
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'Europe/Berlin'
datestyle = 'iso, mdy'
timezone = 'Europe/Berlin'
default_text_search_config = 'pg_catalog.english'
`;

const PG_AUTO = `# Do not edit this file manually!
# It will be overwritten by the ALTER SYSTEM command.
work_mem = '32MB'
max_wal_size = '2048MB'
`;

const REDIS_CONF = `# Redis configuration file (Gentoo's, edited)
bind 127.0.0.1 -::1
protected-mode yes
port 6379
tcp-backlog 511
timeout 0
tcp-keepalive 300
daemonize no
supervised no
pidfile /run/redis/redis.pid
loglevel notice
logfile /var/log/redis/redis.log
databases 16
save 3600 1
save 300 100
save 60 10000
stop-writes-on-bgsave-error yes
rdbcompression yes
dbfilename dump.rdb
dir /var/lib/redis/
requirepass "s3cr3t-legacy-pass"
maxmemory 256mb
maxmemory-policy allkeys-lru
appendonly no
`;

const MEMCACHED_CONFD = `# Memcached configuration (Gentoo /etc/conf.d/memcached)
MEMCACHED_BINARY="/usr/bin/memcached"
MEMUSAGE="128"
MEMCACHED_RUNAS="memcached"
MAXCONN="2048"
LISTENON="127.0.0.1"
PORT="11211"
UDPPORT="0"
PIDBASE="/run/memcached/memcached"
THREADS="4"
MISC_OPTS="-I 2m"
`;

const PASSWD = `root:x:0:0:root:/root:/bin/bash
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
nginx:x:998:998:nginx:/var/lib/nginx:/sbin/nologin
postgres:x:70:70:PostgreSQL:/var/lib/postgresql:/bin/sh
redis:x:75:75:Redis:/var/lib/redis:/sbin/nologin
memcached:x:440:440:memcached:/dev/null:/sbin/nologin
alice:x:1000:1000:Alice Admin:/home/alice:/bin/bash
shop:x:1001:1001:Shop deploy user:/home/shop:/bin/bash
bob:x:1002:1002:Bob:/home/bob:/bin/bash
nobody:x:65534:65534:nobody:/var/empty:/sbin/nologin
`;

/** The packages a web host of this fleet really has, with the /etc files they own. */
function realPackages(s: Required<NonNullable<LegacyHostOptions["services"]>> & { nginxConf: string; nginxPackage: Record<string, string>; redisConf: string; memcachedConfd: string }): Pkg[] {
  const initd = (name: string) => `#!/sbin/openrc-run\n# init script for ${name}\ncommand=/usr/sbin/${name}\n`;
  const pkgs: Pkg[] = [
    { atom: "sys-libs/glibc-2.37-r7", slot: "2.2", use: "multiarch ssp", files: { "/etc/ld.so.conf": "include ld.so.conf.d/*.conf\n", "/etc/locale.gen": "en_US.UTF-8 UTF-8\n", "/usr/lib64/libc.so.6": "ELF libc\n" } },
    { atom: "sys-apps/baselayout-2.14", files: { "/etc/hosts": "127.0.0.1 localhost\n::1 localhost\n", "/etc/issue": "This is \\n.\\O (\\s \\m \\r) \\t\n" } },
    { atom: "sys-apps/openrc-0.48", use: "netifrc pam", files: { "/etc/rc.conf": 'rc_parallel="NO"\n', "/etc/init.d/localmount": initd("localmount"), "/etc/init.d/hostname": initd("hostname"), "/etc/init.d/local": initd("local") } },
    { atom: "net-misc/netifrc-0.7.5", files: { "/etc/init.d/net.lo": initd("net.lo"), "/etc/conf.d/net": "# network\n" } },
    { atom: "sys-apps/coreutils-9.3-r3", use: "acl xattr", files: { "/usr/bin/ls": "ELF ls\n", "/usr/bin/cat": "ELF cat\n" } },
    { atom: "sys-apps/util-linux-2.38.1-r2", files: { "/usr/bin/mount": "ELF mount\n" } },
    { atom: "app-shells/bash-5.1_p16-r6", use: "net readline", files: { "/etc/bash/bashrc": "# /etc/bash/bashrc\n", "/bin/bash": "ELF bash\n" } },
    { atom: "sys-libs/zlib-1.2.13-r1", slot: "0/1", files: { "/usr/lib64/libz.so.1.2.13": "ELF zlib\n" } },
    { atom: "dev-libs/openssl-3.0.10", slot: "0/3", use: "asm", files: { "/etc/ssl/openssl.cnf": "# OpenSSL config\n", "/usr/lib64/libssl.so.3": "ELF ssl\n" } },
    { atom: "dev-libs/libpcre2-10.42-r1", slot: "0/3", files: { "/usr/lib64/libpcre2-8.so.0": "ELF pcre2\n" } },
    { atom: "dev-libs/libxml2-2.11.4", slot: "2", files: { "/usr/lib64/libxml2.so.2": "ELF xml2\n" } },
    { atom: "sys-libs/ncurses-6.4_p20230401", slot: "0/6", files: { "/usr/lib64/libncursesw.so.6": "ELF ncurses\n" } },
    { atom: "sys-libs/readline-8.1_p2-r1", slot: "0/8", files: { "/usr/lib64/libreadline.so.8": "ELF readline\n" } },
    { atom: "dev-libs/libffi-3.4.4-r1", slot: "0/8", files: { "/usr/lib64/libffi.so.8": "ELF ffi\n" } },
    { atom: "app-arch/xz-utils-5.4.3", files: { "/usr/bin/xz": "ELF xz\n" } },
    { atom: "app-arch/bzip2-1.0.8-r4", slot: "0/1", files: { "/usr/bin/bzip2": "ELF bzip2\n" } },
    { atom: "dev-db/sqlite-3.42.0", slot: "3", files: { "/usr/lib64/libsqlite3.so.0": "ELF sqlite\n" } },
    { atom: "dev-lang/python-3.11.5", slot: "3.11", use: "ensurepip ncurses readline sqlite ssl", files: { "/usr/bin/python3.11": "ELF python\n", "/usr/lib/python3.11/os.py": "# os\n" } },
    { atom: "dev-lang/perl-5.38.0-r1", slot: "0/5.38", files: { "/usr/bin/perl": "ELF perl\n" } },
    { atom: "dev-lang/ruby-3.1.4", slot: "3.1", files: { "/usr/bin/ruby31": "ELF ruby\n" } },
    { atom: "app-admin/sudo-1.9.14_p3", use: "pam sendmail ssl", files: { "/etc/sudoers": "root ALL=(ALL:ALL) ALL\n", "/usr/bin/sudo": "ELF sudo\n" }, edited: { "/etc/sudoers": "root ALL=(ALL:ALL) ALL\n%wheel ALL=(ALL:ALL) ALL\n# managed by Puppet\n" } },
    { atom: "net-misc/openssh-9.4_p1-r1", use: "pam ssl", files: { "/etc/ssh/sshd_config": "#Port 22\nPermitRootLogin prohibit-password\n", "/etc/init.d/sshd": initd("sshd") }, edited: { "/etc/ssh/sshd_config": "Port 22\nPermitRootLogin no\nPasswordAuthentication no\n" } },
    { atom: "sys-process/cronie-1.6.1-r1", use: "anacron inotify pam", files: { "/etc/init.d/cronie": initd("cronie"), "/etc/crontab": "SHELL=/bin/bash\n", "/etc/cron.d/0hourly": "01 * * * * root run-parts /etc/cron.hourly\n" } },
    { atom: "app-admin/syslog-ng-4.2.0", files: { "/etc/syslog-ng/syslog-ng.conf": "@version: 4.2\n", "/etc/init.d/syslog-ng": initd("syslog-ng") } },
    { atom: "app-admin/logrotate-3.21.0", files: { "/etc/logrotate.conf": "weekly\nrotate 4\n", "/etc/cron.daily/logrotate": "#!/bin/sh\n/usr/bin/logrotate /etc/logrotate.conf\n" } },
    { atom: "sys-apps/portage-3.0.49-r2", use: "native-extensions rsync-verify xattr", files: { "/usr/bin/emerge": "#!/usr/bin/python3.11\n" } },
    { atom: "app-editors/vim-9.0.1627", use: "acl crypt nls", files: { "/etc/vim/vimrc.local": '" local vimrc\n' } },
    { atom: "app-misc/screen-4.9.0-r1", files: { "/etc/screenrc": "startup_message off\n" } },
    { atom: "net-misc/curl-8.1.2", use: "ssl http2", files: { "/usr/bin/curl": "ELF curl\n" } },
    { atom: "dev-vcs/git-2.41.0", use: "curl pcre", files: { "/usr/bin/git": "ELF git\n" } },
    { atom: "app-admin/puppet-7.25.0", use: "augeas", files: { "/etc/puppetlabs/puppet/puppet.conf": "[agent]\nserver = puppet.example.com\n", "/etc/init.d/puppet": initd("puppet") } },
    { atom: "acct-user/nginx-0-r2", files: { "/usr/lib/sysusers.d/nginx.conf": "u nginx - - /var/lib/nginx\n" } },
    { atom: "acct-group/nginx-0-r1", files: { "/usr/lib/sysusers.d/nginx-group.conf": "g nginx -\n" } },
  ];
  if (s.nginx) {
    pkgs.push({
      atom: "www-servers/nginx-1.24.0-r1",
      use: "http http-cache http2 pcre pcre2 ssl threads nginx_modules_http_fastcgi nginx_modules_http_gzip nginx_modules_http_rewrite",
      files: { "/etc/nginx/nginx.conf": NGINX_CONF_PRISTINE, "/etc/nginx/mime.types": MIME_TYPES, "/etc/nginx/fastcgi_params": FASTCGI_PARAMS, ...s.nginxPackage, "/etc/init.d/nginx": initd("nginx"), "/etc/logrotate.d/nginx": "/var/log/nginx/*_log {\n missingok\n}\n", "/usr/sbin/nginx": "ELF nginx\n", "/var/www/localhost/.keep_www-servers_nginx-0": "" },
      edited: { "/etc/nginx/nginx.conf": s.nginxConf },
    });
  }
  if (s.postgresql) {
    pkgs.push({
      atom: "dev-db/postgresql-15.4",
      slot: "15",
      use: "icu nls pam readline server ssl zlib",
      files: {
        "/etc/init.d/postgresql-15": initd("postgresql-15"),
        "/etc/conf.d/postgresql-15": 'PGDATA="/etc/postgresql-15/"\nDATA_DIR="/var/lib/postgresql/15/data"\nPG_INITDB_OPTS="--locale=en_US.UTF-8"\n',
        "/usr/lib64/postgresql-15/bin/postgres": "ELF postgres\n",
      },
    });
  }
  if (s.redis) {
    pkgs.push({
      atom: "dev-db/redis-7.0.12",
      use: "jemalloc ssl",
      files: { "/etc/redis/redis.conf": REDIS_CONF.replace('requirepass "s3cr3t-legacy-pass"\n', "").replace("maxmemory 256mb\n", ""), "/etc/init.d/redis": initd("redis"), "/etc/conf.d/redis": 'REDIS_DIR="/var/lib/redis"\nREDIS_CONF="/etc/redis/redis.conf"\nREDIS_OPTS="${REDIS_CONF}"\nREDIS_USER="redis"\n', "/usr/bin/redis-server": "ELF redis\n" },
      edited: { "/etc/redis/redis.conf": s.redisConf },
    });
  }
  if (s.memcached) {
    pkgs.push({
      atom: "net-misc/memcached-1.6.21",
      use: "sasl seccomp",
      files: { "/etc/init.d/memcached": initd("memcached"), "/etc/conf.d/memcached": MEMCACHED_CONFD.replace('MEMUSAGE="128"', 'MEMUSAGE="64"').replace('MAXCONN="2048"', 'MAXCONN="1024"'), "/usr/bin/memcached": "ELF memcached\n" },
      edited: { "/etc/conf.d/memcached": s.memcachedConfd },
    });
  }
  if (s.php) {
    pkgs.push({
      atom: "dev-lang/php-8.1.24",
      slot: "8.1",
      use: "fpm mysqli pdo postgres gd curl intl",
      files: { "/etc/init.d/php-fpm": initd("php-fpm"), "/etc/php/fpm-php8.1/php-fpm.conf": "[global]\nerror_log = /var/log/php-fpm.log\n", "/etc/php/fpm-php8.1/php.ini": "memory_limit = 128M\n", "/usr/lib64/php8.1/bin/php-fpm": "ELF php-fpm\n" },
    });
  }
  return pkgs;
}

const FILLER_CATEGORIES = ["dev-libs", "dev-perl", "dev-python", "media-libs", "net-libs", "sys-apps", "app-text", "dev-util", "x11-libs", "app-crypt"];
const FILLER_WORDS = ["yaml", "json-c", "uv", "event", "gmp", "mpfr", "expat", "nettle", "gnutls", "icu", "jpeg", "png", "tiff", "webp", "cairo", "pango", "xslt", "pcre", "lz4", "zstd"];

/**
 * Write the legacy host into `root` and return what was planted.
 *
 * @example const host = writeLegacyHost(tempDir(), { broken: { badNginx: true } });
 */
export function writeLegacyHost(root: string, opts: LegacyHostOptions = {}): LegacyHostInfo {
  const hostname = opts.hostname ?? "web17";
  const services = { nginx: true, postgresql: true, redis: true, memcached: true, php: true, ...opts.services };
  const writeUsr = opts.writeUsrFiles ?? true;
  const planted: LegacyHostInfo["planted"] = {};
  const w = (p: string, content: string | Buffer) => {
    const real = path.join(root, p);
    mkdirSync(path.dirname(real), { recursive: true });
    writeFileSync(real, content);
  };
  const link = (p: string, target: string) => {
    const real = path.join(root, p);
    mkdirSync(path.dirname(real), { recursive: true });
    symlinkSync(target, real);
  };

  const pkgs = realPackages({ ...services, nginxConf: opts.nginx?.conf ?? NGINX_CONF_EDITED, nginxPackage: opts.nginx?.packageFiles ?? {}, redisConf: opts.redisConf ?? REDIS_CONF, memcachedConfd: opts.memcachedConfd ?? MEMCACHED_CONFD });
  const fillers = Math.max(0, (opts.packages ?? pkgs.length) - pkgs.length);
  const per = opts.entriesPerFiller ?? 12;
  for (let i = 0; i < fillers; i++) {
    const cat = FILLER_CATEGORIES[i % FILLER_CATEGORIES.length]!;
    const name = `${FILLER_WORDS[i % FILLER_WORDS.length]}${Math.floor(i / FILLER_WORDS.length) || ""}`;
    const version = `${1 + (i % 4)}.${i % 17}.${i % 5}${i % 3 === 0 ? `-r${1 + (i % 2)}` : ""}`;
    const files: Record<string, string> = {};
    const links: Record<string, string> = {};
    // Each filler: a lib dir with files, a doc file with a space in its name (as real docs have), a
    // symlink; with its six directories that is `per` CONTENTS entries.
    for (let j = 0; Object.keys(files).length + Object.keys(links).length < Math.max(1, per - 6); j++) {
      if (j === 1) files[`/usr/share/doc/${name}-${version}/Release Notes ${j}.txt`] = `notes ${i}\n`;
      else if (j === 2) links[`/usr/lib64/lib${name}.so`] = `lib${name}.so.${j}`;
      else files[`/usr/lib64/${name}/module${j}.so`] = `ELF ${name} ${j}\n`;
    }
    pkgs.push({ atom: `${cat}/${name}-${version}`, files, links });
  }

  let contentsEntries = 0;
  for (const [index, p] of pkgs.entries()) {
    const [category, pf] = p.atom.split("/") as [string, string];
    const vdb = `/var/db/pkg/${category}/${pf}`;
    const lines: string[] = [];
    const dirs = new Set<string>();
    const addDirs = (file: string) => {
      for (let d = path.posix.dirname(file); d !== "/" && !dirs.has(d); d = path.posix.dirname(d)) dirs.add(d);
    };
    for (const f of Object.keys(p.files)) addDirs(f);
    for (const f of Object.keys(p.links ?? {})) addDirs(f);
    for (const d of [...dirs].sort()) lines.push(`dir ${d}`);
    for (const [f, content] of Object.entries(p.files)) {
      lines.push(`obj ${f} ${md5(content)} ${MTIME + index}`);
      if (f.startsWith("/etc/") || writeUsr) w(f, p.edited?.[f] ?? content);
    }
    for (const [f, target] of Object.entries(p.links ?? {})) {
      lines.push(`sym ${f} -> ${target} ${MTIME + index}`);
      if (writeUsr) link(f, target);
    }
    if (opts.broken?.malformedContents && p.atom.startsWith("app-admin/logrotate")) {
      lines.splice(2, 0, "obj /usr/bin/logrotate not-an-md5 1696000000");
      planted.malformedContents = { path: `${vdb}/CONTENTS`, line: 3 };
    }
    contentsEntries += lines.length;
    w(`${vdb}/CATEGORY`, `${category}\n`);
    w(`${vdb}/PF`, `${pf}\n`);
    w(`${vdb}/SLOT`, `${p.slot ?? "0"}\n`);
    w(`${vdb}/USE`, `${p.use ?? ""} amd64 elibc_glibc kernel_linux userland_GNU\n`);
    w(`${vdb}/IUSE`, `${p.use ?? ""}\n`);
    w(`${vdb}/repository`, "gentoo\n");
    w(`${vdb}/EAPI`, "8\n");
    w(`${vdb}/BUILD_TIME`, `${MTIME + index}\n`);
    w(`${vdb}/CONTENTS`, lines.join("\n") + "\n");
  }
  if (opts.broken?.missingVdbEntry) {
    mkdirSync(path.join(root, "var/db/pkg/dev-libs/libghost-1.0"), { recursive: true });
    planted.missingVdbEntry = "/var/db/pkg/dev-libs/libghost-1.0";
  }
  if (opts.broken?.unreadableContents) {
    const vdb = "/var/db/pkg/dev-libs/oddity-2.1";
    w(`${vdb}/PF`, "oddity-2.1\n");
    w(`${vdb}/CATEGORY`, "dev-libs\n");
    w(`${vdb}/SLOT`, "0\n");
    // A directory where a file should be: reading it fails even for root (EISDIR).
    mkdirSync(path.join(root, vdb, "CONTENTS"), { recursive: true });
    planted.unreadableContents = `${vdb}/CONTENTS`;
  }

  const world = ["app-admin/logrotate", "app-admin/puppet", "app-admin/sudo", "app-admin/syslog-ng", "app-editors/vim", "app-misc/screen", "dev-vcs/git", "sys-process/cronie"];
  if (services.nginx) world.push("www-servers/nginx");
  if (services.postgresql) world.push("dev-db/postgresql:15");
  if (services.redis) world.push("dev-db/redis");
  if (services.memcached) world.push("net-misc/memcached");
  if (services.php) world.push("dev-lang/php:8.1");
  w("/var/lib/portage/world", world.sort().join("\n") + "\n");
  w("/etc/portage/make.conf", `COMMON_FLAGS="-O2 -pipe -march=x86-64-v2"\nCFLAGS="\${COMMON_FLAGS}"\nCXXFLAGS="\${COMMON_FLAGS}"\nUSE="-X -gtk ssl http2 postgres fpm"\nFEATURES="buildpkg"\nMAKEOPTS="-j4"\n`);
  w("/etc/portage/package.use/php", "dev-lang/php fpm postgres gd intl\n");

  w("/etc/conf.d/hostname", `# Hostname fallback\nhostname="${hostname}"\n`);
  w("/etc/ssh/ssh_host_ed25519_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n");
  w("/etc/passwd", PASSWD + (opts.accounts ?? []).map((a) => `${a}\n`).join(""));
  const groups = (opts.accounts ?? []).map((a) => a.split(":")).map((f) => `${f[0]}:x:${f[3]}:\n`).join("");
  w("/etc/group", `root:x:0:\nwheel:x:10:alice\nnginx:x:998:\nnogroup:x:65533:\nnobody:x:65534:\n${groups}`);
  w("/etc/shadow", "root:*:19000:0:::::\n");
  w("/etc/shop/shop.env", "APP_ENV=production\nDB_HOST=localhost\n"); // unmanaged: nobody owns it
  w("/etc/motd", "Managed by Puppet. Local changes will be overwritten.\n");

  const runlevels: Record<string, string[]> = {
    boot: ["hostname", "localmount", "net.lo"],
    default: ["cronie", "local", "puppet", "sshd", "syslog-ng"],
  };
  if (services.nginx) runlevels.default!.push("nginx");
  if (services.postgresql) runlevels.default!.push("postgresql-15");
  if (services.redis) runlevels.default!.push("redis");
  if (services.memcached) runlevels.default!.push("memcached");
  if (services.php) runlevels.default!.push("php-fpm");
  for (const [level, names] of Object.entries(runlevels)) for (const n of names) link(`/etc/runlevels/${level}/${n}`, `/etc/init.d/${n}`);

  // Puppet 7 (AIO layout): the classes and resources of its last run.
  const state = "/opt/puppetlabs/puppet/cache/state";
  w(`${state}/classes.txt`, "settings\ndefault\nprofile::base\nprofile::ssh\nprofile::sudo\nrole::webserver\n");
  w(`${state}/resources.txt`, "file[/etc/sudoers]\nfile[/etc/motd]\nfile[/usr/local/bin/backup.sh]\nservice[sshd]\npackage[app-admin/sudo]\n");
  w(
    `${state}/state.yaml`,
    '---\n"File[/etc/sudoers]":\n  :checked: 2024-05-02 03:14:07.123456789 +02:00\n"File[/etc/motd]":\n  :checked: 2024-05-02 03:14:07.223456789 +02:00\n"Service[sshd]":\n  :checked: 2024-05-02 03:14:07.323456789 +02:00\n',
  );
  w("/usr/local/bin/backup.sh", "#!/bin/sh\npg_dumpall | gzip > /var/backups/pg.sql.gz\n");
  // Built by hand: wkhtmltopdf for the shop's invoices.
  w("/usr/local/bin/wkhtmltopdf", "ELF wkhtmltopdf (make install)\n");
  w("/usr/local/lib/libwkhtmltox.so.0", "ELF libwkhtmltox\n".repeat(64));

  if (services.nginx && opts.nginx) for (const [p, text] of Object.entries(opts.nginx.files)) w(p, text);
  if (services.nginx && !opts.nginx) {
    w("/etc/nginx/conf.d/status.conf", STATUS_CONF);
    w("/etc/nginx/vhosts.d/shop.conf", SHOP_VHOST);
    w("/etc/nginx/vhosts.d/static.conf", STATIC_VHOST);
    if (opts.broken?.badNginx) {
      w("/etc/nginx/vhosts.d/broken.conf", BROKEN_VHOST);
      planted.badNginx = { path: "/etc/nginx/vhosts.d/broken.conf", line: 8 };
    }
  }
  if (services.postgresql) {
    w("/etc/postgresql-15/postgresql.conf", opts.postgresql?.conf ?? PG_CONF);
    w("/etc/postgresql-15/pg_hba.conf", "local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n");
    const data = "/var/lib/postgresql/15/data";
    w(`${data}/PG_VERSION`, "15\n");
    const auto = opts.postgresql ? opts.postgresql.auto : PG_AUTO;
    if (auto) w(`${data}/postgresql.auto.conf`, auto);
    w(`${data}/global/pg_control`, Buffer.alloc(8192, 1));
    w(`${data}/base/16384/16385`, Buffer.alloc(64 * 1024, 7));
  }
  if (services.redis) w("/var/lib/redis/dump.rdb", Buffer.concat([Buffer.from("REDIS0010"), Buffer.alloc(4096, 3)]));

  // The shop: a Git checkout deployed by ansible, writing uploads into its own tree.
  if (opts.shop !== false) {
    w("/var/www/shop/.git/HEAD", "ref: refs/heads/main\n");
    w("/var/www/shop/public/index.php", "<?php require __DIR__.'/../bootstrap.php';\n");
    w("/var/www/shop/bootstrap.php", "<?php // app\n");
    w("/var/www/shop/public/uploads/2024/05/photo-1.jpg", Buffer.alloc(20_000, 9));
    w("/var/www/shop/public/uploads/2024/05/photo-2.jpg", Buffer.alloc(30_000, 9));
    w("/srv/static/index.html", "<h1>static</h1>\n");
    w("/var/spool/cron/crontabs/shop", "MAILTO=ops@example.com\n*/5 * * * * php /var/www/shop/artisan schedule:run >/dev/null 2>&1\n30 2 * * * /usr/local/bin/backup.sh\n");
    w("/var/spool/cron/crontabs/root", "# root's jobs\n0 4 * * 0 /usr/sbin/emerge --sync -q\n");
    w("/etc/cron.d/shop-reports", "15 6 * * 1-5 shop /var/www/shop/bin/report --weekly\n");
  }

  // Homes: alice's virtualenv on the system python, bob's binary built with gcc against the system's libc.
  w("/home/alice/.bashrc", "export PATH=$HOME/bin:$PATH\n");
  if (opts.homeSoftware !== false) {
    w("/home/alice/venv/pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.5\n");
    link("/home/alice/venv/bin/python", "/usr/bin/python3.11");
    w("/home/alice/venv/lib/python3.11/site-packages/requests/__init__.py", "# requests\n".repeat(100));
  }
  w("/home/shop/.profile", "cd /var/www/shop\n");
  if (opts.homeSoftware !== false) w("/home/bob/bin/invoice-tool", elfWithInterpreter("/lib64/ld-linux-x86-64.so.2"));
  w("/home/bob/notes.txt", "todo\n");
  for (const [p, content] of Object.entries(opts.files ?? {})) w(p, content);
  for (const [p, target] of Object.entries(opts.links ?? {})) link(p, target);
  for (const d of opts.dirs ?? []) mkdirSync(path.join(root, d), { recursive: true });
  return { root, hostname, packages: pkgs.length + (opts.broken?.unreadableContents ? 1 : 0), contentsEntries, planted };
}

/** A minimal ELF64 executable header with one PT_INTERP segment: what `gcc` leaves for the dynamic linker to read. */
function elfWithInterpreter(interp: string): Buffer {
  const interpBytes = Buffer.from(interp + "\0");
  const buf = Buffer.alloc(64 + 56 + interpBytes.length);
  buf.writeUInt32BE(0x7f454c46, 0); // \x7fELF
  buf[4] = 2; // 64-bit
  buf[5] = 1; // little-endian
  buf[6] = 1; // version
  buf.writeUInt16LE(2, 16); // ET_EXEC
  buf.writeUInt16LE(0x3e, 18); // x86-64
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(64n, 32); // e_phoff
  buf.writeUInt16LE(64, 52); // e_ehsize
  buf.writeUInt16LE(56, 54); // e_phentsize
  buf.writeUInt16LE(1, 56); // e_phnum
  buf.writeUInt32LE(3, 64); // PT_INTERP
  buf.writeBigUInt64LE(120n, 64 + 8); // p_offset
  buf.writeBigUInt64LE(BigInt(interpBytes.length), 64 + 32); // p_filesz
  interpBytes.copy(buf, 120);
  return buf;
}
