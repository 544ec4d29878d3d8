import type { NginxNode } from "../components/nginx/syntax.js";

/**
 * The inventory of a legacy host: facts read from its file tree, nothing interpreted yet.
 * `migrate plan` and `migrate report` work from this JSON alone, so everything the plan needs
 * (server blocks, settings with their file and line) is recorded here, never re-read.
 */

/** Something that could not be read or parsed; the run went on without it. */
export interface Problem {
  /** Path on the legacy host (absolute, as the host sees it). */
  path: string;
  line?: number;
  message: string;
}

/** One installed package from Gentoo's VDB (`var/db/pkg/<category>/<PF>/`). */
export interface PackageFact {
  /** `www-servers/nginx-1.24.0-r1` */
  atom: string;
  category: string;
  /** Package name without version: `nginx`. */
  name: string;
  /** Version with revision: `1.24.0-r1`. */
  version: string;
  slot: string;
  use: string[];
  repository: string;
  /** In the world file (selected by the admin), not only pulled in as a dependency. */
  selected: boolean;
  /** Number of CONTENTS entries. */
  entries: number;
}

export type ConfigState = "pristine" | "hand-edited" | "unmanaged" | "missing";

/** A file under /etc and who is responsible for it. */
export interface ConfigFact {
  path: string;
  state: ConfigState;
  /** Owning package atom, when CONTENTS lists the file. */
  package?: string;
  /** Puppet resource managing it, e.g. `File[/etc/ntp.conf]`. */
  puppet?: string;
}

/** An OpenRC service enabled in a runlevel. */
export interface ServiceFact {
  name: string;
  runlevel: string;
  /** Package that installed /etc/init.d/<name>. */
  package?: string;
  /** Variables of /etc/conf.d/<name>, when present. */
  confd?: Record<string, string>;
}

export interface PuppetFact {
  /** The state directory found (host path), or null when the host has no Puppet state. */
  stateDir: string | null;
  classes: string[];
  /** Resource titles as Puppet writes them: `File[/etc/ntp.conf]`, `Service[ntpd]`. */
  resources: string[];
}

export interface CronJobFact {
  /** Crontab file and line on the host. */
  path: string;
  line: number;
  user: string;
  schedule: string;
  command: string;
  /** Package owning the crontab file (then it comes with the package). */
  package?: string;
}

/** Software in a home that needs libraries from the system (a virtualenv on the system python). */
export interface HomeSoftwareFact {
  path: string;
  kind: "virtualenv" | "elf";
  /** What it points at on the system, e.g. `/usr/bin/python3.11`. */
  linksTo: string;
}

export interface UserFact {
  name: string;
  uid: number;
  home: string;
  shell: string;
  /** Bytes under the home (0 when it does not exist). */
  homeBytes: number;
  software: HomeSoftwareFact[];
}

export interface DataDirFact {
  path: string;
  kind: "postgresql" | "redis" | "uploads" | "app-writable" | "other";
  bytes: number;
  /** What uses it, e.g. `postgresql-15`. */
  owner: string;
}

/** An application deployed into /var/www or /srv by a tool (ansible, capistrano, git pull…). */
export interface AppFact {
  path: string;
  /** How it got there, from the traces deployment tools leave. */
  deployedBy: string;
  /** Sub-directories the running app writes into (uploads, cache, logs) below its install dir. */
  writesInto: string[];
  bytes: number;
}

/** Software installed by hand (`make install` into /usr/local or /opt). */
export interface LocalBuildFact {
  path: string;
  files: number;
  bytes: number;
}

/** A directive or setting from a legacy config file, with where it was written. */
export interface SettingFact {
  name: string;
  value: string;
  path: string;
  line: number;
}

export type { NginxNode };

/** A file or directory the legacy nginx configuration names, as the legacy host has it. */
export interface NginxPathFact {
  /** Absolute host path (a relative one resolved as the legacy nginx build resolves it). */
  path: string;
  /** The directive that names it (`ssl_certificate`, `root`, `proxy_cache_path`…). */
  directive: string;
  /** `file:line` of the directive. */
  from: string;
  type: "file" | "dir" | "missing" | "other";
  /** The symlinks it goes through (host paths), and where it ends. */
  links: string[];
  target: string;
  bytes: number;
  /** The package that installed it (a file), or every file below it (a directory), if one did. */
  package?: string;
  /** What of it (and the directories above it) others cannot read, where nginx's workers read it. */
  private?: { count: number; example?: string };
}

export interface NginxFact {
  /** Main configuration file on the host, or null when nginx is not configured. */
  main: string | null;
  /** Every file read, includes resolved. */
  files: string[];
  /** Top-level directives (outside http/events), e.g. worker_processes. */
  main_directives: NginxNode[];
  events: NginxNode[];
  /** http-level directives other than server blocks (upstream, map, gzip…), includes expanded. */
  http: NginxNode[];
  /** Server blocks, includes expanded. */
  servers: NginxNode[];
  /** Files and directories the configuration names (certificates, roots, cache paths), as found. */
  paths?: NginxPathFact[];
}

export interface PostgresqlFact {
  /** Major version (from the package slot or the directory name). */
  major: string;
  configFile: string | null;
  dataDir: string | null;
  /** Explicit settings in effect order (postgresql.conf, its includes, then postgresql.auto.conf). */
  settings: SettingFact[];
}

export interface RedisFact {
  configFile: string | null;
  directives: SettingFact[];
}

export interface MemcachedFact {
  confd: string | null;
  variables: Record<string, string>;
}

export interface InventoryFacts {
  packages: PackageFact[];
  world: string[];
  makeConf: Record<string, string>;
  services: ServiceFact[];
  configs: ConfigFact[];
  puppet: PuppetFact;
  cron: CronJobFact[];
  users: UserFact[];
  data: DataDirFact[];
  apps: AppFact[];
  localBuilds: LocalBuildFact[];
  nginx: NginxFact | null;
  postgresql: PostgresqlFact | null;
  redis: RedisFact | null;
  memcached: MemcachedFact | null;
}

export type Verdict = "congruent" | "convergent" | "divergent";

export type ItemKind = "package" | "service" | "config" | "cron" | "data" | "home" | "app" | "local-build";

/** One part of the host and what becomes of it. */
export interface Item {
  kind: ItemKind;
  /** Atom, service name, path, or `user:line` for cron jobs. */
  id: string;
  class: Verdict;
  reason: string;
  /** Bytes, for divergent data carried over. */
  bytes?: number;
}

export type BlockerKind = "no-role" | "writes-install-dir" | "home-links-system" | "config-unparsable" | "no-package-database" | "platform-lacks" | "package-content" | "content-unreadable";

/** Something that stops a host from moving until a person decides. */
export interface Blocker {
  kind: BlockerKind;
  /** What it is about, stable across hosts so the fleet view can count it: `dev-lang/php`. */
  subject: string;
  detail: string;
  path?: string;
}

export interface Summary {
  items: number;
  congruent: number;
  convergent: number;
  divergent: number;
  /** Bytes of divergent data to carry over. */
  dataBytes: number;
  blockers: number;
  /** No blockers: the plan can be cut over. */
  ready: boolean;
}

/** What `migrate inventory --json` writes. */
export interface Inventory {
  format: "congruent-migrate-inventory/1";
  host: string;
  root: string;
  generatedAt: string;
  facts: InventoryFacts;
  items: Item[];
  blockers: Blocker[];
  summary: Summary;
  problems: Problem[];
}
