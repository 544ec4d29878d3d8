import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { LeftOut } from "./conversion.js";
import { convertAll } from "./conversions.js";
import { canonicalMemcached, MEMCACHED_COMPONENT_DEFAULTS } from "./convert-memcached.js";
import { canonicalSettings, congruentNginxSettings, planHttp } from "./convert-nginx.js";
import { planPg } from "./convert-postgresql.js";
import { canonicalRedis, redisPlatform } from "./convert-redis.js";
import { LegacyRoot } from "./legacy-root.js";
import { readMemcached } from "./memcached-config.js";
import { readNginx } from "./nginx-config.js";
import { parseNginx } from "../components/nginx/syntax.js";
import { readServices } from "./openrc.js";
import { readPostgresql } from "./postgresql-config.js";
import { readRedis } from "./redis-config.js";
import { quoteArg, splitArgs } from "../components/redis/syntax.js";
import type { Problem, SettingFact } from "./types.js";
import { readVdb } from "./vdb.js";

/** One setting or directive whose value the cut-over would change. */
export interface Difference {
  component: string;
  /** `nginx server 80 shop.example.com › location / › try_files`, `postgresql work_mem`… */
  key: string;
  /** What the legacy host runs now (null: not set there). */
  legacy: string | null;
  /** What the plan would build (null: not in the plan). */
  congruent: string | null;
  reason: string;
}

export interface ShadowDiff {
  root: string;
  plan: string;
  /** Per component: how many keys were compared and how many differ. */
  components: { component: string; compared: number; differ: number }[];
  differences: Difference[];
  /** What the plan leaves out on purpose, with the reason: not compared. */
  leftOut: LeftOut[];
  problems: Problem[];
  empty: boolean;
}

/**
 * Shadow mode: compare, setting by setting and server block by server block, what the legacy
 * host runs now (read again from its root) with what the plan directory would build (its
 * snippets and host description over the components' defaults). Static: nothing is started.
 * Empty for everything the plan migrated, unless the host changed since the plan was made.
 *
 * @example const d = shadowDiff({ root: "/mnt/web17", plan: "plans/web17" }); d.empty
 */
export function shadowDiff(opts: { root: string; plan: string }): ShadowDiff {
  if (!existsSync(opts.root) || !statSync(opts.root).isDirectory()) throw new CongruentError("E_MIGRATE_ROOT", `${opts.root}: not a directory (the legacy host's root)`);
  const planDir = path.resolve(opts.plan);
  const hostFile = path.join(planDir, "host.json");
  let host: { roles?: string[]; settings?: Record<string, Record<string, number | string | boolean>> };
  try {
    host = JSON.parse(readFileSync(hostFile, "utf8"));
  } catch (error) {
    throw new CongruentError("E_MIGRATE_PLAN", `${hostFile}: cannot read the plan's host description: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const root = new LegacyRoot(opts.root);
  const problems: Problem[] = [];
  const vdb = readVdb(root);
  const services = readServices(root, vdb.owned);
  const nginx = readNginx(root, vdb.owned);
  const pg = readPostgresql(root, vdb.packages, services.services);
  const has = (cat: string, name: string) => vdb.packages.some((p) => p.category === cat && p.name === name);
  const redis = readRedis(root, has("dev-db", "redis"));
  const memcached = readMemcached(root, has("net-misc", "memcached"));
  problems.push(...nginx.problems, ...pg.problems, ...redis.problems, ...memcached.problems);

  const { conversions, leftOut } = convertAll({
    packages: vdb.packages,
    services: services.services,
    nginx: nginx.nginx,
    postgresql: pg.postgresql,
    redis: redis.redis,
    memcached: memcached.memcached,
  });
  const roles = new Set(host.roles ?? []);
  const local = (component: string) => readLocal(path.join(planDir, "local", component));
  const components: ShadowDiff["components"] = [];
  const differences: Difference[] = [];
  for (const c of conversions) {
    leftOut.push(...c.leftOut);
    let planned: Map<string, string>;
    if (!roles.has(c.role)) {
      differences.push({ component: c.component, key: `role ${c.role}`, legacy: "runs", congruent: null, reason: "the legacy host runs it; the plan has no such role (was it installed after the plan was made?)" });
      planned = new Map();
    } else if (c.component === "nginx") {
      const nodes = local("nginx").flatMap((f) => {
        const parsed = parseNginx(f.text, f.path);
        if (parsed.error) problems.push({ path: parsed.error.path, line: parsed.error.line, message: `plan snippet: ${parsed.error.message}` });
        return parsed.nodes;
      });
      planned = new Map([...canonicalSettings(congruentNginxSettings(host.settings?.nginx)), ...planHttp(nodes)]);
      for (const k of [...planned.keys()]) if (k.startsWith("nginx setting ") && !c.legacy.has(k)) planned.delete(k); // left out on purpose
    } else if (c.component === "postgresql") planned = planPg(local("postgresql"), pg.postgresql!.major);
    else if (c.component === "redis") {
      const platform = Object.entries(redisPlatform()).map(([name, p]): SettingFact => ({ name, value: String(host.settings?.redis?.[name] ?? p.platform), path: "platform", line: 0 }));
      planned = canonicalRedis([...platform, ...local("redis").flatMap((f) => redisDirectives(f.text, f.path))]);
    }
    else {
      const file = local("memcached").find((f) => f.name === "memcached.json");
      let json: Record<string, unknown> = {};
      try {
        json = file ? JSON.parse(file.text) : {};
      } catch {
        problems.push({ path: file!.path, message: "plan snippet: not valid JSON" });
      }
      planned = canonicalMemcached({ ...MEMCACHED_COMPONENT_DEFAULTS, ...(json as object) });
    }
    let differ = 0;
    const keys = [...new Set([...c.legacy.keys(), ...planned.keys()])].sort();
    for (const key of keys) {
      const a = c.legacy.get(key) ?? null;
      const b = planned.get(key) ?? null;
      if (a === b) continue;
      differ++;
      differences.push({
        component: c.component,
        key,
        legacy: a,
        congruent: b,
        reason: a === null ? "only in the plan (removed from the legacy host since the plan was made?)" : b === null ? "not in the plan (added to the legacy host since the plan was made?)" : "the values differ",
      });
    }
    components.push({ component: c.component, compared: keys.length, differ });
  }
  for (const role of roles) {
    if (conversions.some((c) => c.role === role)) continue;
    differences.push({ component: role, key: `role ${role}`, legacy: null, congruent: "runs", reason: "the plan has this role; the legacy host does not run it (any more)" });
  }
  return { root: root.dir, plan: planDir, components, differences, leftOut, problems, empty: differences.length === 0 };
}

function readLocal(dir: string): { name: string; path: string; text: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.filter((n) => n !== "README.txt").map((name) => ({ name, path: path.join(dir, name), text: readFileSync(path.join(dir, name), "utf8") }));
}

function redisDirectives(text: string, file: string): SettingFact[] {
  const out: SettingFact[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const words = splitArgs(line);
    if (!words || words.length === 0) return;
    out.push({ name: words[0]!.toLowerCase(), value: words.slice(1).map(quoteArg).join(" "), path: file, line: i + 1 });
  });
  return out;
}
