import { isBasePackage, isBaseService, isPuppet, packageOfService, roleOfPackage } from "./roles.js";
import type { Blocker, InventoryFacts, Item, Problem, Summary } from "./types.js";

const ACCOUNTS = /^\/etc\/(passwd|group|shadow|gshadow)-?$/;
const HOST_IDENTITY = /^\/etc\/(ssh\/ssh_host_.*|machine-id|hostname|conf\.d\/hostname|ssl\/private\/.*)$/;
const GENERATED = /^\/etc\/(ld\.so\.cache|mtab|resolv\.conf|adjtime|profile\.env|csh\.env|environment\.d\/.*|env\.d\/.*|\.pwd\.lock|udev\/hwdb\.bin|gentoo-release)$/;

/**
 * Classify every part of the host: congruent (reproducible from a Congruent description),
 * convergent (a tool keeps it in line: Puppet, ansible, cron) or divergent (data, or drift
 * nothing reproduces: carried over, never regenerated), each with the reason; and collect the
 * blockers a person must decide before the host can move.
 *
 * @example const { items, blockers, summary } = classify(inventory.facts, inventory.problems);
 */
export function classify(facts: InventoryFacts, problems: Problem[]): { items: Item[]; blockers: Blocker[]; summary: Summary } {
  const items: Item[] = [];
  const blockers = new Map<string, Blocker>();
  const block = (b: Blocker) => {
    // A package without a role is one blocker, however many services it runs.
    const key = b.kind === "no-role" ? `${b.kind} ${b.subject}` : `${b.kind} ${b.subject} ${b.path ?? ""}`;
    if (!blockers.has(key)) blockers.set(key, b);
  };

  // Without the package database nothing about the software can be judged: never "ready".
  const noVdb = problems.find((p) => p.path === "/var/db/pkg" && !p.line);
  if (noVdb) block({ kind: "no-package-database", subject: "no Gentoo package database", detail: `/var/db/pkg: ${noVdb.message}`, path: "/var/db/pkg" });

  const servicesByPackage = new Map<string, string[]>();
  for (const s of facts.services) {
    if (s.package) {
      const key = s.package.replace(/-\d.*$/, "");
      servicesByPackage.set(key, [...(servicesByPackage.get(key) ?? []), s.name]);
    }
  }

  for (const p of facts.packages) {
    const key = `${p.category}/${p.name}`;
    const role = roleOfPackage(p);
    const services = servicesByPackage.get(key) ?? [];
    let verdict: Item;
    if (role) verdict = { kind: "package", id: p.atom, class: "congruent", reason: `role ${role.role} (component ${role.component}) provides it` };
    else if (isPuppet(p)) verdict = { kind: "package", id: p.atom, class: "convergent", reason: "Puppet agent: what it enforces moves into the Congruent description; the agent goes" };
    else if (isBasePackage(p)) verdict = { kind: "package", id: p.atom, class: "congruent", reason: "part of the platform's base system" };
    else if (p.selected || services.length > 0) {
      verdict = { kind: "package", id: p.atom, class: "convergent", reason: `no Congruent role${services.length ? ` (runs service ${services.join(", ")})` : " (selected in the world file)"}: stays under a convergent tool until a role exists` };
      block({ kind: "no-role", subject: key, detail: `${p.atom}${services.length ? ` runs ${services.join(", ")}` : " is in the world file"}; no Congruent role provides it`, path: `/var/db/pkg/${p.atom}` });
    } else verdict = { kind: "package", id: p.atom, class: "congruent", reason: "dependency only (not in the world file): the platform brings what its roles need" };
    items.push(verdict);
  }

  for (const s of facts.services) {
    const id = `${s.runlevel}/${s.name}`;
    const pkg = packageOfService(s.name);
    if (pkg) items.push({ kind: "service", id, class: "congruent", reason: `run by the ${pkg.split("/")[1]} component` });
    else if (s.name === "puppet" || s.name === "puppetagent") items.push({ kind: "service", id, class: "convergent", reason: "Puppet agent: replaced by the Congruent agent (congruent manage)" });
    else if (isBaseService(s.name, s.runlevel)) items.push({ kind: "service", id, class: "congruent", reason: "the platform's base system runs it" });
    else {
      items.push({ kind: "service", id, class: "convergent", reason: `no Congruent role runs it${s.package ? ` (from ${s.package})` : ""}` });
      const subject = s.package ? s.package.replace(/-\d.*$/, "") : `service ${s.name}`;
      block({ kind: "no-role", subject, detail: `service ${s.name}${s.package ? ` (${s.package})` : ""} has no Congruent role`, path: `/etc/runlevels/${s.runlevel}/${s.name}` });
    }
  }

  const migrated = migratedFiles(facts);
  const unparsable = new Map(problems.filter((p) => p.message.startsWith("nginx cannot parse")).map((p) => [p.path, p]));
  const cronFiles = new Set(facts.cron.filter((j) => !j.package).map((j) => j.path));
  for (const c of facts.configs) {
    const id = c.path;
    if (c.state === "unmanaged" && cronFiles.has(c.path)) continue; // its jobs are the items (kind cron)
    const add = (cls: Item["class"], reason: string) => items.push({ kind: "config", id, class: cls, reason });
    const bad = unparsable.get(c.path);
    if (bad) {
      add("divergent", `nginx cannot parse it (line ${bad.line}): nothing was migrated from it`);
      block({ kind: "config-unparsable", subject: "nginx configuration nginx cannot parse", detail: `${bad.path}:${bad.line}: ${bad.message}`, path: bad.path });
    } else if (migrated.has(c.path)) add("congruent", `converted into ${migrated.get(c.path)} by migrate plan`);
    else if (/^\/etc\/postgresql-\d+\/pg_(hba|ident)\.conf$/.test(c.path)) add("divergent", "PostgreSQL access rules: the platform writes pg_hba.conf/pg_ident.conf; carry the rules over by hand");
    else if (c.path.startsWith("/etc/portage/")) add("congruent", "Portage build settings: the platform builds its own packages");
    else if (ACCOUNTS.test(c.path)) add("divergent", "account database: the accounts are carried over with the homes");
    else if (HOST_IDENTITY.test(c.path)) add("divergent", "host identity (keys, name): carried over so clients keep trusting the host");
    else if (GENERATED.test(c.path)) add("congruent", "generated by the system at boot or install");
    else if (c.puppet) add("convergent", `managed by Puppet (${c.puppet})`);
    else if (c.state === "pristine") add("congruent", `as installed by ${c.package}`);
    else if (c.state === "missing") add("congruent", `deleted by hand; ${c.package}'s file comes back with the platform's package`);
    else if (c.state === "hand-edited") add("divergent", `hand-edited since ${c.package} installed it (md5 differs from CONTENTS); no integration point takes it`);
    else add("divergent", "unmanaged: belongs to no package and no Puppet resource");
  }
  // Puppet also manages files outside /etc (scripts in /usr/local/bin…).
  for (const r of facts.puppet.resources) {
    const m = /^File\[(\/.*)\]$/.exec(r);
    if (m && !m[1]!.startsWith("/etc/")) items.push({ kind: "config", id: m[1]!, class: "convergent", reason: `managed by Puppet (${r})` });
  }

  for (const j of facts.cron) {
    const id = `${j.path}:${j.line}`;
    if (j.package) items.push({ kind: "cron", id, class: "congruent", reason: `installed by ${j.package}` });
    else items.push({ kind: "cron", id, class: "convergent", reason: `cron job of ${j.user} (${j.schedule} ${j.command.slice(0, 60)}): keep it under a convergent tool` });
  }

  for (const d of facts.data) {
    const what = { postgresql: "database cluster", redis: "Redis dump", uploads: "customer uploads", "app-writable": "files the application writes", other: "data directory" }[d.kind];
    items.push({ kind: "data", id: d.path, class: "divergent", reason: `${what} of ${d.owner}: carried over as data`, bytes: d.bytes });
  }

  for (const u of facts.users) {
    items.push({ kind: "home", id: u.home, class: "divergent", reason: `home of ${u.name}: carried over as data`, bytes: u.homeBytes });
    for (const s of u.software) {
      block({
        kind: "home-links-system",
        subject: s.kind === "virtualenv" ? `virtualenv on the system's ${s.linksTo.split("/").pop()}` : `binary loaded by the system's ${s.linksTo}`,
        detail: `${s.path} (${u.name}) uses ${s.linksTo}: move it into a user profile before the system's copy changes`,
        path: s.path,
      });
    }
  }

  for (const a of facts.apps) {
    if (a.deployedBy.startsWith("copied by hand")) items.push({ kind: "app", id: a.path, class: "divergent", reason: "application copied by hand (no deployment tool's traces): carried over as data, or put under a deployment tool", bytes: a.bytes });
    else items.push({ kind: "app", id: a.path, class: "convergent", reason: `application deployment (${a.deployedBy}): keeps being deployed by its tool` });
    for (const w of a.writesInto) {
      block({ kind: "writes-install-dir", subject: "application writes into its install directory", detail: `${a.path} writes into ${w}: move that data out of the install tree (a data directory)`, path: w });
    }
  }

  for (const l of facts.localBuilds) {
    items.push({ kind: "local-build", id: l.path, class: "divergent", reason: `${l.files} files installed by hand (no package lists them): carried over, or rebuilt in a user profile`, bytes: l.bytes });
  }

  const list = [...blockers.values()];
  const count = (c: Item["class"]) => items.filter((i) => i.class === c).length;
  const summary: Summary = {
    items: items.length,
    congruent: count("congruent"),
    convergent: count("convergent"),
    divergent: count("divergent"),
    dataBytes: items.filter((i) => i.class === "divergent").reduce((s, i) => s + (i.bytes ?? 0), 0),
    blockers: list.length,
    ready: list.length === 0,
  };
  return { items, blockers: list, summary };
}

/** Files whose content migrate plan turns into integration-point snippets, and where it goes. */
function migratedFiles(facts: InventoryFacts): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of facts.nginx?.files ?? []) out.set(f, "/etc/local/nginx/");
  for (const s of facts.postgresql?.settings ?? []) out.set(s.path, "/etc/local/postgresql/");
  if (facts.postgresql) out.set(`/etc/conf.d/postgresql-${facts.postgresql.major}`, "the postgresql role");
  for (const d of facts.redis?.directives ?? []) out.set(d.path, "/etc/local/redis/");
  if (facts.redis) out.set("/etc/conf.d/redis", "the redis role");
  if (facts.memcached?.confd) out.set(facts.memcached.confd, "/etc/local/memcached/memcached.json");
  return out;
}
