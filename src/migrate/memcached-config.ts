import type { LegacyRoot } from "./legacy-root.js";
import type { MemcachedFact, Problem } from "./types.js";
import { readConfd } from "./openrc.js";

/** Gentoo's memcached options live in /etc/conf.d/memcached (MEMUSAGE, MAXCONN, PORT, LISTENON, THREADS, MISC_OPTS…). */
export function readMemcached(root: LegacyRoot, installed: boolean): { memcached: MemcachedFact | null; problems: Problem[] } {
  if (!installed) return { memcached: null, problems: [] };
  const confd = readConfd(root, "memcached");
  return { memcached: { confd: confd ? "/etc/conf.d/memcached" : null, variables: confd?.vars ?? {} }, problems: confd?.problems ?? [] };
}

/** The memcached.json fields of the Congruent component and memcached's own defaults (memcached -h). */
export interface MemcachedSettings {
  memory: number;
  connections: number;
  port: number;
  listen: string;
  threads: number;
  max_item_size: string;
  /** Only where the legacy host sets them (memcached's defaults: 20, true, true, 0). */
  reqs_per_event?: number;
  cas?: boolean;
  evictions?: boolean;
  verbosity?: number;
}

/** A legacy option the plan cannot carry: `lacks` when clients would notice (a blocker), else owned by the platform. */
export interface Unmapped {
  option: string;
  reason: string;
  lacks?: boolean;
}

/** memcached's built-in defaults: what a legacy host runs when conf.d says nothing. */
export const MEMCACHED_BUILTIN: MemcachedSettings = { memory: 64, connections: 1024, port: 11211, listen: "0.0.0.0", threads: 4, max_item_size: "1m" };

// memcached's options that take a value, short and long (memcached -h), and the field each sets.
const VALUED: Record<string, { field: keyof MemcachedSettings; long: string; numeric: boolean }> = {
  m: { field: "memory", long: "memory-limit", numeric: true },
  c: { field: "connections", long: "conn-limit", numeric: true },
  p: { field: "port", long: "port", numeric: true },
  l: { field: "listen", long: "listen", numeric: false },
  t: { field: "threads", long: "threads", numeric: true },
  I: { field: "max_item_size", long: "max-item-size", numeric: false },
  R: { field: "reqs_per_event", long: "max-reqs-per-event", numeric: true },
};
const LONG = new Map(Object.entries(VALUED).map(([k, v]) => [v.long, k]));

/**
 * What a legacy memcached runs with: conf.d variables over memcached's defaults, then MISC_OPTS,
 * which Gentoo's init script passes after them (a later option wins, as memcached reads its
 * argv), with the words no memcached.json field takes reported as left out.
 */
export function effectiveMemcached(fact: MemcachedFact): { settings: MemcachedSettings; unmapped: Unmapped[] } {
  const v = fact.variables;
  const s: MemcachedSettings = { ...MEMCACHED_BUILTIN };
  const num = (x: string | undefined) => (x !== undefined && /^\d+$/.test(x.trim()) ? Number(x) : undefined);
  s.memory = num(v.MEMUSAGE) ?? s.memory;
  s.connections = num(v.MAXCONN) ?? s.connections;
  s.port = num(v.PORT) ?? s.port;
  s.threads = num(v.THREADS) ?? s.threads;
  if (v.LISTENON?.trim()) s.listen = v.LISTENON.trim();
  const unmapped: Unmapped[] = [];
  const lacks = (option: string) => unmapped.push({ option, reason: "memcached.json has no field for this option", lacks: true });
  let udp = v.UDPPORT;
  const words = (v.MISC_OPTS ?? "").split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    // -c 2048, -c2048, --conn-limit=2048, --conn-limit 2048
    const m = /^-([A-Za-z])(.*)$/.exec(w) ?? null;
    const long = /^--([a-z-]+)(?:=(.*))?$/.exec(w);
    const key = long ? LONG.get(long[1]!) : m && !w.startsWith("--") ? m[1] : undefined;
    const spec = key ? VALUED[key] : undefined;
    if (spec) {
      const value = (long ? long[2] : m![2] || undefined) ?? words[++i];
      if (value === undefined || (spec.numeric && !/^\d+$/.test(value))) {
        lacks(w);
        continue;
      }
      (s as unknown as Record<string, unknown>)[spec.field] = spec.numeric ? Number(value) : spec.field === "max_item_size" ? value.toLowerCase() : value;
      continue;
    }
    if (w === "-C" || w === "--disable-cas") s.cas = false;
    else if (w === "-M" || w === "--disable-evictions") s.evictions = false;
    else if (/^-v{1,3}$/.test(w)) s.verbosity = Math.max(s.verbosity ?? 0, w.length - 1);
    else if (w === "-U" || w === "--udp-port" || /^(-U|--udp-port=)\d+$/.test(w)) udp = /\d+$/.test(w) ? w.replace(/^\D+/, "") : words[++i];
    // memcached 1.6 runs the "modern" options already; saying so changes nothing.
    else if ((w === "-o" || w === "--extended") && words[i + 1] === "modern") i++;
    else if (w === "-o" || w === "--extended") lacks(`${w} ${words[++i] ?? ""}`.trim());
    // Another option with its value (-f 1.25, -b 2048): one option, as memcached reads it.
    else if (/^-[abBDefnPsuWY]$/.test(w) && words[i + 1] !== undefined && !words[i + 1]!.startsWith("-")) lacks(`${w} ${words[++i]}`);
    else lacks(w);
  }
  if (udp !== undefined && udp.trim() !== "" && udp.trim() !== "0") unmapped.push({ option: `UDP port ${udp.trim()}`, reason: "the platform keeps memcached's UDP off (as memcached ≥ 1.5.6 defaults: UDP amplifies attacks); clients that use UDP must use TCP", lacks: true });
  for (const key of ["MEMCACHED_RUNAS", "PIDBASE", "SOCKET", "SOCKET_PERM"]) {
    if (v[key]) unmapped.push({ option: `${key}=${v[key]}`, reason: "owned by the platform (user, pid file and socket are where Congruent puts them)" });
  }
  return { settings: s, unmapped };
}
