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
}

/** memcached's built-in defaults: what a legacy host runs when conf.d says nothing. */
export const MEMCACHED_BUILTIN: MemcachedSettings = { memory: 64, connections: 1024, port: 11211, listen: "0.0.0.0", threads: 4, max_item_size: "1m" };

/**
 * What a legacy memcached runs with: conf.d variables over memcached's defaults, plus the
 * MISC_OPTS words no memcached.json field takes (reported as left out).
 */
export function effectiveMemcached(fact: MemcachedFact): { settings: MemcachedSettings; unmapped: { option: string; reason: string }[] } {
  const v = fact.variables;
  const s: MemcachedSettings = { ...MEMCACHED_BUILTIN };
  const num = (x: string | undefined) => (x !== undefined && /^\d+$/.test(x.trim()) ? Number(x) : undefined);
  s.memory = num(v.MEMUSAGE) ?? s.memory;
  s.connections = num(v.MAXCONN) ?? s.connections;
  s.port = num(v.PORT) ?? s.port;
  s.threads = num(v.THREADS) ?? s.threads;
  if (v.LISTENON?.trim()) s.listen = v.LISTENON.trim();
  const unmapped: { option: string; reason: string }[] = [];
  const words = (v.MISC_OPTS ?? "").split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const item = /^(?:-I|--max-item-size)(?:=?(.+))?$/.exec(w);
    if (item) {
      s.max_item_size = (item[1] ?? words[++i] ?? s.max_item_size).toLowerCase();
      continue;
    }
    unmapped.push({ option: w, reason: "memcached.json has no field for this option" });
  }
  for (const key of ["MEMCACHED_RUNAS", "PIDBASE", "SOCKET", "SOCKET_PERM", "UDPPORT"]) {
    if (v[key] && !(key === "UDPPORT" && v[key] === "0")) unmapped.push({ option: `${key}=${v[key]}`, reason: key === "UDPPORT" ? "memcached.json has no UDP port (UDP stays off, as memcached ≥ 1.5.6 defaults)" : "owned by the platform (user, pid file and socket are where Congruent puts them)" });
  }
  return { settings: s, unmapped };
}
