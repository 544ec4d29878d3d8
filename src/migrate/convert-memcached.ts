import type { Conversion } from "./conversion.js";
import { effectiveMemcached, type MemcachedSettings } from "./memcached-config.js";
import type { MemcachedFact } from "./types.js";

/** The memcached component's defaults for fields memcached.json leaves out (its documented contract). */
export const MEMCACHED_COMPONENT_DEFAULTS: MemcachedSettings = { memory: 64, connections: 1024, port: 11211, listen: "127.0.0.1", threads: 4, max_item_size: "1m" };

export function canonicalMemcached(s: MemcachedSettings): Map<string, string> {
  return new Map(Object.entries(s).map(([k, v]) => [`memcached ${k}`, String(v).toLowerCase()]));
}

/**
 * Turn /etc/conf.d/memcached into the memcached role and `memcached.json` with every field
 * written out (memcached's own defaults differ from the component's: it listens on all
 * addresses unless told otherwise, and the plan must keep what the host does today).
 */
export function convertMemcached(fact: MemcachedFact): Conversion {
  const { settings, unmapped } = effectiveMemcached(fact);
  return {
    component: "memcached",
    role: "memcached",
    settings: {},
    snippets: [{ name: "memcached.json", text: JSON.stringify(settings, null, 2) + "\n", from: fact.confd ? [fact.confd] : ["memcached's built-in defaults"] }],
    leftOut: unmapped.filter((u) => !u.lacks).map((u) => ({ component: "memcached", key: u.option, ...(fact.confd ? { from: fact.confd } : {}), reason: u.reason })),
    secrets: [],
    legacy: canonicalMemcached(settings),
    // What memcached.json cannot say changes what clients get: a person decides.
    blockers: unmapped
      .filter((u) => u.lacks)
      .map((u) => ({ kind: "platform-lacks" as const, subject: `memcached ${u.option.split(/[ =]/)[0]}`, detail: `${u.option} (${fact.confd ?? "memcached's command line"}): ${u.reason}`, ...(fact.confd ? { path: fact.confd } : {}) })),
  };
}
