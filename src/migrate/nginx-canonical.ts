import { serverKey } from "./nginx-config.js";
import { unquote } from "../components/nginx/syntax.js";
import type { NginxNode } from "./types.js";

// Directives that repeat with a name as first argument: compared one by one under that name.
const KEYED = new Set(["add_header", "proxy_set_header", "fastcgi_param", "uwsgi_param", "scgi_param", "set", "log_format", "limit_req_zone", "limit_conn_zone", "proxy_cache_path", "more_set_headers"]);

/**
 * Flatten directives into `path › directive` → value, so two configurations compare directive
 * by directive regardless of order (the order of directives inside a block does not change
 * what nginx does; the order of server blocks does, and is kept by the snippets' names).
 * Repeated directives (listen, index…) compare as a sorted set of their values.
 *
 * @example canonicalNginx("nginx server 80 shop", server.block) // Map { "nginx server 80 shop › root" => "/srv/shop" }
 */
export function canonicalNginx(prefix: string, nodes: NginxNode[], out = new Map<string, string[]>()): Map<string, string[]> {
  const seenBlocks = new Map<string, number>();
  // The empty string (a map's key '') is shown as nginx would have it written, so it cannot vanish unseen.
  const shown = (w: string) => (w === "" ? '""' : w);
  for (const n of nodes) {
    const args = n.args.map((a) => shown(unquote(a)));
    if (n.block) {
      let key = `${prefix} › ${[n.name, ...args].join(" ")}`;
      const count = (seenBlocks.get(key) ?? 0) + 1;
      seenBlocks.set(key, count);
      if (count > 1) key += ` #${count}`;
      out.set(key, ["{ }"]);
      canonicalNginx(key, n.block, out);
      continue;
    }
    const keyed = KEYED.has(n.name) && args.length > 0;
    const key = `${prefix} › ${keyed ? `${n.name} ${args[0]}` : shown(n.name)}`;
    const value = (keyed ? args.slice(1) : args).join(" ");
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** Server blocks as `nginx server <listen> <names>` → directives, for diffing block by block. */
export function canonicalServers(servers: NginxNode[], out = new Map<string, string[]>()): Map<string, string[]> {
  const seen = new Map<string, number>();
  for (const s of servers) {
    let key = `nginx server ${serverKey(s)}`;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (count > 1) key += ` #${count}`;
    out.set(key, ["{ }"]);
    canonicalNginx(key, s.block ?? [], out);
  }
  return out;
}

/** One comparable string per key: repeated values sorted, joined by " | ". */
export function flatten(map: Map<string, string[]>): Map<string, string> {
  return new Map([...map].map(([k, v]) => [k, [...v].sort().join(" | ")]));
}
