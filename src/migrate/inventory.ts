import { readFileSync } from "node:fs";
import { readApps, readLocalBuilds } from "./apps.js";
import { classify } from "./classify.js";
import { readCron } from "./cron.js";
import { readEtc } from "./etc-files.js";
import { LegacyRoot } from "./legacy-root.js";
import { readMemcached } from "./memcached-config.js";
import { readNginx } from "./nginx-config.js";
import { readServices } from "./openrc.js";
import { readMakeConf, readWorld } from "./portage.js";
import { readPostgresql } from "./postgresql-config.js";
import { puppetFiles, readPuppet } from "./puppet.js";
import { readRedis } from "./redis-config.js";
import type { DataDirFact, Inventory, InventoryFacts, Problem } from "./types.js";
import { readUsers } from "./users.js";
import { readVdb } from "./vdb.js";

export const INVENTORY_FORMAT = "congruent-migrate-inventory/1";

export interface InventoryOptions {
  /** The legacy host's root: a copy, a mount, or `/` on the host itself. */
  root: string;
  /** Called between steps, for a progress display. */
  onStep?: (step: string, done: number, total: number) => void;
}

const STEPS = ["packages", "world and make.conf", "Puppet", "services", "/etc", "cron", "users and homes", "nginx", "PostgreSQL", "Redis and memcached", "applications", "classification"];

/**
 * Read a legacy Gentoo host's file tree and assess it. Reads only: nothing below the root is
 * created, changed or locked. Every unreadable or malformed input is a `problem` naming the
 * file (and line); the rest is read on.
 *
 * @example const inv = takeInventory({ root: "/mnt/web17" }); inv.summary.ready
 */
export function takeInventory(opts: InventoryOptions): Inventory {
  const root = new LegacyRoot(opts.root);
  const problems: Problem[] = [];
  let step = 0;
  const next = () => opts.onStep?.(STEPS[step]!, step++, STEPS.length);

  next();
  const vdb = readVdb(root);
  problems.push(...vdb.problems);
  next();
  const world = readWorld(root);
  const make = readMakeConf(root);
  problems.push(...world.problems, ...make.problems);
  const selected = new Set(world.world);
  for (const p of vdb.packages) p.selected = selected.has(`${p.category}/${p.name}`);
  next();
  const puppet = readPuppet(root);
  problems.push(...puppet.problems);
  next();
  const services = readServices(root, vdb.owned);
  problems.push(...services.problems);
  next();
  const configs = readEtc(root, vdb.owned, puppetFiles(puppet.puppet));
  next();
  const cron = readCron(root, vdb.owned);
  problems.push(...cron.problems);
  next();
  const users = readUsers(root);
  problems.push(...users.problems);
  next();
  const nginx = readNginx(root, vdb.owned);
  problems.push(...nginx.problems);
  next();
  const postgresql = readPostgresql(root, vdb.packages, services.services);
  problems.push(...postgresql.problems);
  next();
  const has = (cat: string, name: string) => vdb.packages.some((p) => p.category === cat && p.name === name);
  const redis = readRedis(root, has("dev-db", "redis"));
  const memcached = readMemcached(root, has("net-misc", "memcached"));
  problems.push(...redis.problems, ...memcached.problems);
  next();
  const apps = readApps(root, vdb.owned);
  const localBuilds = readLocalBuilds(root, vdb.owned, puppetFiles(puppet.puppet));

  const data: DataDirFact[] = [];
  if (postgresql.postgresql?.dataDir) {
    data.push({ path: postgresql.postgresql.dataDir, kind: "postgresql", bytes: root.usage(postgresql.postgresql.dataDir).bytes, owner: `postgresql-${postgresql.postgresql.major}` });
  }
  if (redis.redis) {
    const dir = ([...redis.redis.directives].reverse().find((d) => d.name === "dir")?.value ?? "/var/lib/redis").replace(/(.)\/+$/, "$1");
    if (root.isDir(dir)) data.push({ path: dir, kind: "redis", bytes: root.usage(dir).bytes, owner: "redis" });
  }
  for (const app of apps) for (const w of app.writesInto) data.push({ path: w, kind: /upload|media|files/.test(w) ? "uploads" : "app-writable", bytes: root.usage(w).bytes, owner: app.path });
  for (const extra of ["/var/lib/mysql", "/var/vmail", "/var/lib/docker"]) {
    if (root.isDir(extra)) data.push({ path: extra, kind: "other", bytes: root.usage(extra).bytes, owner: extra.split("/").pop()! });
  }

  const facts: InventoryFacts = {
    packages: vdb.packages,
    world: world.world,
    makeConf: make.vars,
    services: services.services,
    configs,
    puppet: puppet.puppet,
    cron: cron.jobs,
    users: users.users,
    data,
    apps,
    localBuilds,
    nginx: nginx.nginx,
    postgresql: postgresql.postgresql,
    redis: redis.redis,
    memcached: memcached.memcached,
  };
  next();
  const { items, blockers, summary } = classify(facts, problems);
  return {
    format: INVENTORY_FORMAT,
    host: hostName(root),
    root: root.dir,
    generatedAt: new Date().toISOString(),
    facts,
    items,
    blockers,
    summary,
    problems,
  };
}

/** The legacy host's own name: /etc/conf.d/hostname (OpenRC), else /etc/hostname, else the root's directory name. */
function hostName(root: LegacyRoot): string {
  const confd = /^\s*hostname\s*=\s*["']?([^"'\s]+)/m.exec(root.read("/etc/conf.d/hostname") ?? "")?.[1];
  const plain = (root.read("/etc/hostname") ?? "").trim().split(/\s/)[0];
  const name = confd ?? (plain || root.dir.split("/").pop() || "legacy");
  return name.split(".")[0]!.toLowerCase();
}

/** Read an inventory file written by `migrate inventory --json`/`--out`, checked against its schema. */
export async function readInventory(file: string): Promise<Inventory> {
  const { parseInventory } = await import("./schema.js");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const { CongruentError } = await import("../errors.js");
    throw new CongruentError("E_MIGRATE_INVENTORY", `${file}: cannot read inventory: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return parseInventory(text, file);
}
