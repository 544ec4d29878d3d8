import path from "node:path";
import { parseNginx, unquote } from "../components/nginx/syntax.js";
import { GENTOO_NGINX } from "./gentoo-nginx.js";
import type { LegacyRoot } from "./legacy-root.js";
import { readNginxPaths } from "./nginx-paths.js";
import type { OwnedFile } from "./vdb.js";
import type { NginxFact, NginxNode, Problem } from "./types.js";

const MAIN = "/etc/nginx/nginx.conf";

/**
 * The legacy nginx configuration as nginx would load it: nginx.conf with every `include`
 * expanded in place (globs sorted, paths relative to nginx.conf's directory), all read below
 * the legacy root. A file nginx could not parse is reported with its line and left out; the
 * rest is still read. The files and directories the configuration names are looked up too
 * (`paths`): what the new host needs of them.
 */
export function readNginx(root: LegacyRoot, owned: Map<string, OwnedFile> = new Map()): { nginx: NginxFact | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const text = root.read(MAIN);
  if (text === undefined) return { nginx: null, problems };
  const files: string[] = [];
  const prefix = path.posix.dirname(MAIN);

  const load = (file: string, body: string, depth: number): NginxNode[] | undefined => {
    files.push(file);
    const parsed = parseNginx(body, file);
    if (parsed.error) {
      problems.push({ path: parsed.error.path, line: parsed.error.line, message: `nginx cannot parse this file: ${parsed.error.message}` });
      return undefined;
    }
    return expand(parsed.nodes, depth);
  };

  const expand = (nodes: NginxNode[], depth: number): NginxNode[] => {
    const out: NginxNode[] = [];
    for (const node of nodes) {
      if (node.name === "include" && !node.block && node.args.length === 1) {
        const pattern = node.args[0]!.replace(/^["']|["']$/g, "");
        const abs = pattern.startsWith("/") ? pattern : path.posix.join(prefix, pattern);
        const matches = /[*?[]/.test(abs) ? root.glob(abs) : [abs];
        for (const m of matches) {
          const body = root.read(m);
          if (body === undefined) {
            problems.push({ path: node.path, line: node.line, message: `include ${pattern}: ${m} cannot be read` });
            continue;
          }
          if (depth > 10) {
            problems.push({ path: node.path, line: node.line, message: "includes nested more than 10 deep (a loop?)" });
            continue;
          }
          out.push(...(load(m, body, depth + 1) ?? []));
        }
        continue;
      }
      out.push(node.block ? { ...node, block: expand(node.block, depth) } : node);
    }
    return out;
  };

  const nodes = load(MAIN, text, 0);
  const fact: NginxFact = { main: MAIN, files, main_directives: [], events: [], http: [], servers: [] };
  for (const node of nodes ?? []) {
    if (node.name === "events") fact.events.push(...(node.block ?? []));
    else if (node.name === "http") {
      for (const h of node.block ?? []) (h.name === "server" ? fact.servers : fact.http).push(h);
    } else fact.main_directives.push(node);
  }
  fact.paths = readNginxPaths(root, fact.http, fact.servers, owned, workerIds(root, fact.main_directives));
  return { nginx: fact, problems };
}

/**
 * The legacy workers' uid and gid: `user NAME [GROUP]` (Gentoo's default nginx) looked up in the
 * legacy host's own /etc/passwd and /etc/group; undefined where they cannot be told.
 */
function workerIds(root: LegacyRoot, main: NginxNode[]): { uid: number; gid: number } | undefined {
  const user = main.find((d) => d.name === "user");
  const name = unquote(user?.args[0] ?? GENTOO_NGINX.user);
  const entry = (file: string, key: string) => (root.read(file) ?? "").split("\n").map((l) => l.split(":")).find((f) => f[0] === key);
  const pw = entry("/etc/passwd", name);
  if (!pw || !/^\d+$/.test(pw[2] ?? "")) return undefined;
  const groupName = user?.args[1] ? unquote(user.args[1]) : undefined;
  const gr = groupName ? entry("/etc/group", groupName) : undefined;
  const gid = gr && /^\d+$/.test(gr[2] ?? "") ? Number(gr[2]) : Number(pw[3]);
  return { uid: Number(pw[2]), gid };
}

/** A server block's identity: its listen addresses and names, e.g. `80 shop.example.com www.shop.example.com`. */
export function serverKey(server: NginxNode): string {
  const values = (name: string) =>
    (server.block ?? [])
      .filter((d) => d.name === name)
      .flatMap((d) => d.args.map((a) => a.replace(/^["']|["']$/g, "")))
      .filter((a) => !/^(default_server|default|ssl|http2|reuseport|proxy_protocol)$/.test(a));
  const listen = values("listen");
  return `${(listen.length ? listen : ["80"]).join(",")} ${values("server_name").join(" ") || "_"}`;
}
