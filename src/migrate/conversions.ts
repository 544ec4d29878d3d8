import type { Conversion } from "./conversion.js";
import { convertMemcached } from "./convert-memcached.js";
import { convertNginx } from "./convert-nginx.js";
import { convertPostgresql } from "./convert-postgresql.js";
import { convertRedis } from "./convert-redis.js";
import type { LeftOut } from "./conversion.js";
import type { InventoryFacts } from "./types.js";

/**
 * Every component the legacy host runs, converted. A component whose package is installed
 * but whose service no runlevel starts is not migrated (nothing runs it today), and says so.
 */
export function convertAll(facts: Pick<InventoryFacts, "packages" | "services" | "nginx" | "postgresql" | "redis" | "memcached">): { conversions: Conversion[]; leftOut: LeftOut[] } {
  const running = new Set(facts.services.map((s) => s.name));
  const has = (cat: string, name: string) => facts.packages.some((p) => p.category === cat && p.name === name);
  const conversions: Conversion[] = [];
  const leftOut: LeftOut[] = [];
  const consider = (component: string, installed: boolean, service: string, make: () => Conversion | undefined) => {
    if (!installed) return;
    if (!running.has(service)) {
      leftOut.push({ component, key: `service ${service}`, reason: "installed, but no runlevel starts it: no role proposed" });
      return;
    }
    const c = make();
    if (c) conversions.push(c);
    else leftOut.push({ component, key: `service ${service}`, reason: "runs, but its configuration was not found" });
  };
  consider("nginx", has("www-servers", "nginx"), "nginx", () => (facts.nginx ? convertNginx(facts.nginx) : undefined));
  consider("postgresql", has("dev-db", "postgresql"), `postgresql-${facts.postgresql?.major ?? ""}`, () => (facts.postgresql ? convertPostgresql(facts.postgresql) : undefined));
  consider("redis", has("dev-db", "redis"), "redis", () => (facts.redis ? convertRedis(facts.redis) : undefined));
  consider("memcached", has("net-misc", "memcached"), "memcached", () => (facts.memcached ? convertMemcached(facts.memcached) : undefined));
  return { conversions, leftOut };
}
