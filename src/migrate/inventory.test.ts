import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers.js";
import { writeLegacyHost, type LegacyHostInfo } from "../../test/support/legacy-host.js";
import { takeInventory } from "./inventory.js";
import type { Inventory, Item } from "./types.js";

let host: LegacyHostInfo;
let inv: Inventory;
const item = (kind: Item["kind"], id: string) => inv.items.find((i) => i.kind === kind && i.id === id);

beforeAll(() => {
  host = writeLegacyHost(tempDir("legacy-"));
  inv = takeInventory({ root: host.root });
});

describe("inventory of a legacy Gentoo + Puppet host", () => {
  it("reads every VDB entry with its slot, USE flags and CONTENTS, and the world file", () => {
    expect(inv.host).toBe("web17");
    expect(inv.facts.packages).toHaveLength(host.packages);
    const pg = inv.facts.packages.find((p) => p.atom === "dev-db/postgresql-15.4")!;
    expect(pg).toMatchObject({ category: "dev-db", name: "postgresql", version: "15.4", slot: "15", selected: true, repository: "gentoo" });
    expect(pg.use).toContain("server");
    expect(inv.facts.packages.find((p) => p.atom === "sys-libs/zlib-1.2.13-r1")).toMatchObject({ slot: "0", selected: false });
    expect(inv.facts.packages.reduce((n, p) => n + p.entries, 0)).toBe(host.contentsEntries);
    expect(inv.facts.makeConf.USE).toBe("-X -gtk ssl http2 postgres fpm");
    expect(inv.problems).toEqual([]);
  });

  it("finds the hand-edited files (md5 differs from CONTENTS) and the unmanaged ones", () => {
    const state = (p: string) => inv.facts.configs.find((c) => c.path === p)?.state;
    expect(state("/etc/nginx/nginx.conf")).toBe("hand-edited");
    expect(state("/etc/ssh/sshd_config")).toBe("hand-edited");
    expect(state("/etc/nginx/mime.types")).toBe("pristine");
    expect(state("/etc/shop/shop.env")).toBe("unmanaged");
    expect(state("/etc/nginx/vhosts.d/shop.conf")).toBe("unmanaged");
    expect(inv.facts.configs.filter((c) => c.state === "hand-edited").map((c) => c.path).sort()).toEqual([
      "/etc/conf.d/memcached", "/etc/nginx/nginx.conf", "/etc/redis/redis.conf", "/etc/ssh/sshd_config", "/etc/sudoers",
    ]);
  });

  it("reads Puppet's classes and managed resources from its state directory", () => {
    expect(inv.facts.puppet.stateDir).toBe("/opt/puppetlabs/puppet/cache/state");
    expect(inv.facts.puppet.classes).toContain("role::webserver");
    expect(inv.facts.puppet.resources).toEqual(expect.arrayContaining(["File[/etc/sudoers]", "File[/etc/motd]", "Service[sshd]", "Package[app-admin/sudo]"]));
    expect(inv.facts.configs.find((c) => c.path === "/etc/sudoers")).toMatchObject({ state: "hand-edited", puppet: "File[/etc/sudoers]" });
  });

  it("reads OpenRC runlevels, crontabs, users and homes", () => {
    expect(inv.facts.services.find((s) => s.name === "php-fpm")).toMatchObject({ runlevel: "default", package: "dev-lang/php-8.1.24" });
    expect(inv.facts.services.find((s) => s.name === "memcached")?.confd?.MEMUSAGE).toBe("128");
    expect(inv.facts.cron.find((j) => j.user === "shop" && j.command.startsWith("php"))).toMatchObject({ path: "/var/spool/cron/crontabs/shop", line: 2, schedule: "*/5 * * * *" });
    expect(inv.facts.cron.find((j) => j.path === "/etc/cron.d/shop-reports")).toMatchObject({ user: "shop", schedule: "15 6 * * 1-5" });
    expect(inv.facts.users.map((u) => u.name)).toEqual(["alice", "shop", "bob"]);
    expect(inv.facts.users[0]!.software).toEqual([{ path: "/home/alice/venv", kind: "virtualenv", linksTo: "/usr/bin/python3.11" }]);
    expect(inv.facts.users[2]!.software).toEqual([{ path: "/home/bob/bin/invoice-tool", kind: "elf", linksTo: "/lib64/ld-linux-x86-64.so.2" }]);
  });

  it("reads nginx with its includes, PostgreSQL (auto.conf last), Redis and memcached", () => {
    const nginx = inv.facts.nginx!;
    expect(nginx.files).toEqual(["/etc/nginx/nginx.conf", "/etc/nginx/mime.types", "/etc/nginx/conf.d/status.conf", "/etc/nginx/vhosts.d/shop.conf", "/etc/nginx/fastcgi_params", "/etc/nginx/vhosts.d/static.conf"]);
    expect(nginx.servers).toHaveLength(3);
    const pg = inv.facts.postgresql!;
    expect(pg).toMatchObject({ major: "15", configFile: "/etc/postgresql-15/postgresql.conf", dataDir: "/var/lib/postgresql/15/data" });
    expect(pg.settings.filter((s) => s.name === "work_mem").map((s) => s.value)).toEqual(["16MB", "32MB"]);
    expect(inv.facts.redis!.directives.find((d) => d.name === "maxmemory")).toMatchObject({ value: "256mb", path: "/etc/redis/redis.conf", line: 22 });
    expect(inv.facts.memcached!.variables.MISC_OPTS).toBe("-I 2m");
  });
});

describe("classification", () => {
  it("classifies every kind of item with its reason", () => {
    expect(item("package", "www-servers/nginx-1.24.0-r1")).toMatchObject({ class: "congruent", reason: expect.stringContaining("webgateway") });
    expect(item("package", "dev-db/postgresql-15.4")).toMatchObject({ class: "congruent", reason: expect.stringContaining("postgresql15") });
    expect(item("package", "sys-libs/glibc-2.37-r7")?.class).toBe("congruent");
    expect(item("package", "dev-lang/php-8.1.24")).toMatchObject({ class: "convergent", reason: expect.stringContaining("no Congruent role") });
    expect(item("package", "app-admin/puppet-7.25.0")?.class).toBe("convergent");
    expect(item("service", "default/php-fpm")?.class).toBe("convergent");
    expect(item("service", "default/nginx")?.class).toBe("congruent");
    expect(item("config", "/etc/nginx/nginx.conf")).toMatchObject({ class: "congruent", reason: expect.stringContaining("/etc/local/nginx/") });
    expect(item("config", "/etc/ssh/sshd_config")).toMatchObject({ class: "divergent", reason: expect.stringContaining("hand-edited") });
    expect(item("config", "/etc/shop/shop.env")).toMatchObject({ class: "divergent", reason: expect.stringContaining("unmanaged") });
    expect(item("config", "/etc/sudoers")).toMatchObject({ class: "convergent", reason: "managed by Puppet (File[/etc/sudoers])" });
    expect(item("config", "/etc/hosts")).toMatchObject({ class: "congruent", reason: "as installed by sys-apps/baselayout-2.14" });
    expect(item("cron", "/var/spool/cron/crontabs/shop:2")?.class).toBe("convergent");
    expect(item("cron", "/etc/cron.d/0hourly:1")?.class).toBe("congruent");
    expect(item("data", "/var/lib/postgresql/15/data")).toMatchObject({ class: "divergent", bytes: expect.any(Number) });
    expect(item("data", "/var/lib/postgresql/15/data")!.bytes).toBeGreaterThan(8192 + 65536); // pg_control + a relation + small files
    expect(item("data", "/var/lib/redis")?.class).toBe("divergent");
    expect(item("data", "/var/www/shop/public/uploads")).toMatchObject({ class: "divergent", bytes: 50_000 });
    expect(item("home", "/home/alice")?.class).toBe("divergent");
    expect(item("app", "/var/www/shop")).toMatchObject({ class: "convergent", reason: expect.stringContaining("git checkout") });
    expect(item("local-build", "/usr/local/lib")?.class).toBe("divergent");
    expect(inv.items.every((i) => i.reason.length > 0)).toBe(true);
    const s = inv.summary;
    expect(s.congruent + s.convergent + s.divergent).toBe(s.items);
  });

  it("lists the blockers: no role, writes into its install dir, home software on system libraries", () => {
    expect(inv.blockers.map((b) => [b.kind, b.subject])).toEqual([
      ["no-role", "dev-lang/php"],
      ["home-links-system", "virtualenv on the system's python3.11"],
      ["home-links-system", "binary loaded by the system's /lib64/ld-linux-x86-64.so.2"],
      ["writes-install-dir", "application writes into its install directory"],
    ]);
    expect(inv.summary).toMatchObject({ blockers: 4, ready: false });
  });

  it("a host with only what the platform has roles for is ready", () => {
    const root = tempDir("legacy-");
    writeLegacyHost(root, { services: { php: false } });
    // The app's uploads moved out, the homes' software into profiles.
    for (const p of ["var/www/shop/public/uploads", "home/alice/venv", "home/bob/bin"]) rmSync(path.join(root, p), { recursive: true });
    const clean = takeInventory({ root });
    expect(clean.blockers).toEqual([]);
    expect(clean.summary.ready).toBe(true);
  });
});

describe("bad input is reported per item, with path and line, and the run goes on", () => {
  it("a missing VDB entry, an unreadable CONTENTS, a malformed CONTENTS line, a config nginx cannot parse", () => {
    const broken = writeLegacyHost(tempDir("legacy-"), { broken: { missingVdbEntry: true, unreadableContents: true, malformedContents: true, badNginx: true } });
    const bad = takeInventory({ root: broken.root });
    expect(bad.problems).toEqual(
      expect.arrayContaining([
        { path: broken.planted.malformedContents!.path, line: 3, message: expect.stringContaining("malformed CONTENTS line") },
        { path: broken.planted.missingVdbEntry!, message: expect.stringContaining("unreadable VDB entry") },
        { path: broken.planted.unreadableContents!, message: expect.stringContaining("unreadable") },
        { path: "/etc/nginx/vhosts.d/broken.conf", line: 8, message: 'nginx cannot parse this file: unexpected "}"' },
      ]),
    );
    // The run went on: logrotate is still there, the other vhosts were read, a blocker names the file.
    expect(bad.facts.packages.find((p) => p.atom === "app-admin/logrotate-3.21.0")).toBeDefined();
    expect(bad.facts.nginx!.servers).toHaveLength(3);
    expect(bad.blockers).toContainEqual(expect.objectContaining({ kind: "config-unparsable", path: "/etc/nginx/vhosts.d/broken.conf" }));
    expect(bad.items.find((i) => i.id === "/etc/nginx/vhosts.d/broken.conf")).toMatchObject({ class: "divergent" });
  });

  it("a tree without a Gentoo package database is never ready", () => {
    const root = tempDir("legacy-");
    writeLegacyHost(root);
    rmSync(path.join(root, "var/db/pkg"), { recursive: true });
    const inv = takeInventory({ root });
    expect(inv.problems).toContainEqual({ path: "/var/db/pkg", message: expect.stringContaining("no Gentoo package database") });
    expect(inv.blockers).toContainEqual(expect.objectContaining({ kind: "no-package-database" }));
    expect(inv.summary.ready).toBe(false);
  });

  it("never writes below the root", () => {
    const root = tempDir("legacy-");
    writeLegacyHost(root);
    const before = snapshot(root);
    takeInventory({ root });
    expect(snapshot(root)).toEqual(before);
  });
});

function snapshot(root: string): string {
  return execFileSync("find", [root, "-printf", "%p %s %T@\\n"], { encoding: "utf8" }).split("\n").sort().join("\n");
}
