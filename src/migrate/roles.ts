import type { PackageFact } from "./types.js";

/**
 * Which legacy packages and OpenRC services become which Congruent role. This is the one
 * table to extend when the platform gains a component.
 */
export interface RoleMapping {
  role: string;
  component: string;
}

/** The Congruent role a package becomes, if any: `dev-db/postgresql-15.4` (slot 15) → postgresql15. */
export function roleOfPackage(p: Pick<PackageFact, "category" | "name" | "slot">): RoleMapping | undefined {
  const key = `${p.category}/${p.name}`;
  if (key === "www-servers/nginx") return { role: "webgateway", component: "nginx" };
  if (key === "dev-db/postgresql") return { role: `postgresql${p.slot}`, component: "postgresql" };
  if (key === "dev-db/redis") return { role: "redis", component: "redis" };
  if (key === "net-misc/memcached") return { role: "memcached", component: "memcached" };
  return undefined;
}

/** The package (category/name) an OpenRC service of a role comes from. */
export function packageOfService(name: string): string | undefined {
  if (name === "nginx") return "www-servers/nginx";
  if (/^postgresql-\d+$/.test(name)) return "dev-db/postgresql";
  if (name === "redis") return "dev-db/redis";
  if (name === "memcached") return "net-misc/memcached";
  return undefined;
}

// Categories whose packages the platform's base system provides (libraries, the toolchain,
// core utilities, shells, editors): nothing about them is specific to this host.
const BASE_CATEGORIES = new Set([
  "sys-apps", "sys-libs", "sys-kernel", "sys-devel", "sys-fs", "sys-process", "sys-auth", "sys-boot", "sys-firmware",
  "virtual", "acct-user", "acct-group", "dev-libs", "app-arch", "app-shells", "app-misc", "app-editors", "app-portage",
  "app-eselect", "app-crypt", "app-text", "app-alternatives", "net-libs", "dev-util", "dev-perl", "dev-python", "perl-core",
  "media-libs", "x11-libs", "x11-misc", "net-dns", "dev-build", "sec-keys", "sec-policy", "app-misc", "mail-mta", "app-vim",
]);
const BASE_PACKAGES = new Set([
  "dev-lang/python", "dev-lang/perl", "dev-lang/python-exec", "dev-lang/tcl", "dev-vcs/git", "app-admin/sudo", "app-admin/logrotate",
  "app-admin/syslog-ng", "app-admin/rsyslog", "app-admin/metalog", "app-admin/sysklogd", "app-admin/eselect", "app-admin/perl-cleaner",
  "net-misc/openssh", "net-misc/curl", "net-misc/wget", "net-misc/rsync", "net-misc/chrony", "net-misc/ntp", "net-misc/dhcpcd",
  "net-misc/iputils", "net-misc/netifrc", "net-misc/whois", "net-misc/openssh-contrib", "net-analyzer/tcpdump", "net-analyzer/netcat",
  "net-dns/bind-tools", "sys-process/cronie", "app-admin/sysstat", "net-firewall/iptables", "net-firewall/nftables", "dev-lang/rust-bin",
]);

/** True when the platform's base system provides this package; it needs no role. */
export function isBasePackage(p: Pick<PackageFact, "category" | "name">): boolean {
  return BASE_CATEGORIES.has(p.category) || BASE_PACKAGES.has(`${p.category}/${p.name}`);
}

/** True for Puppet itself (app-admin/puppet, puppet-agent): its work moves to Congruent's agent. */
export function isPuppet(p: Pick<PackageFact, "category" | "name">): boolean {
  return p.category === "app-admin" && /^puppet(-agent)?$/.test(p.name);
}

// OpenRC services the platform runs itself (boot, logging, time, ssh, cron, network).
const BASE_SERVICES = /^(sshd|cronie|dcron|fcron|syslog-ng|rsyslog|sysklogd|metalog|chronyd|ntpd|ntp-client|netmount|local|net\..+|dhcpcd|udev.*|agetty.*|sysctl|hostname|modules|fsck|root|localmount|mtab|procfs|sysfs|devfs|dmesg|hwclock|swap|termencoding|keymaps|urandom|seedrng|bootmisc|loopback|save-keymaps|save-termencoding|killprocs|mount-ro|savecache|iptables|nftables|acpid|sshguard)$/;

export function isBaseService(name: string, runlevel: string): boolean {
  return runlevel !== "default" || BASE_SERVICES.test(name);
}
