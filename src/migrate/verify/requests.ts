import path from "node:path";
import { absolutePath, DEFAULT_ROOT } from "../../components/nginx/paths.js";
import { unquote, type NginxNode } from "../../components/nginx/syntax.js";
import { GENTOO_NGINX_BASES } from "../gentoo-nginx.js";
import type { LegacyRoot } from "../legacy-root.js";
import { constantVars, legacyPath } from "../nginx-paths.js";
import { sampleOf } from "./regex-sample.js";

/** Where a request goes: an address and port (or a Unix socket) nginx listens on. */
export interface Endpoint {
  host: string;
  port: number;
  tls: boolean;
  /** A Unix socket path (as the host sees it), instead of host and port. */
  socket?: string;
}

/** One request both hosts get, in the same order. */
export interface Probe {
  endpoint: Endpoint;
  /** Host header and TLS server name. */
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The answer's body changes from one request to the next by design (stub_status): not compared. */
  dynamic?: boolean;
}

// A name no server block lists: the endpoint's default server answers it.
const UNKNOWN_NAME = "unknown.congruent-verify.invalid";
const MISSING = "/congruent-verify-missing";
const PASSES = ["proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass"];
// Per server block: enough to cover its locations and files, bounded so a host with many names stays quick.
const PER_SERVER = 160;

/** An endpoint's identity, to group requests on one connection. */
export const endpointKey = (e: Endpoint) => (e.socket ? `unix:${e.socket}` : `${e.tls ? "https" : "http"}://${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port}`);

/**
 * The addresses and ports a server block listens on, as a client reaches them. A wildcard listen
 * (`listen 80`) is reached through an address no server names explicitly (`wildcard`): nginx
 * gives a connection to 127.0.0.1 to the servers that listen on 127.0.0.1 itself, if any.
 */
export function endpoints(server: NginxNode, wildcard = { v4: "127.0.0.1", v6: "::1" }): Endpoint[] {
  const block = server.block ?? [];
  const sslOn = block.some((d) => d.name === "ssl" && unquote(d.args[0] ?? "") === "on");
  const listens = block.filter((d) => d.name === "listen");
  const out: Endpoint[] = [];
  for (const l of listens.length ? listens : [{ name: "listen", args: ["80"], path: "", line: 0 }]) {
    const [addr = "80", ...opts] = l.args.map(unquote);
    // UDP (QUIC) and PROXY-protocol listeners take other clients than a plain HTTP one.
    if (opts.includes("quic") || opts.includes("proxy_protocol")) continue;
    const tls = sslOn || opts.includes("ssl");
    if (addr.startsWith("unix:")) {
      out.push({ host: "", port: 0, tls, socket: addr.slice(5) });
      continue;
    }
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr);
    let host: string;
    let port: number;
    if (m) {
      host = m[1]!;
      port = Number(m[2] ?? 80);
    } else if (/^\d+$/.test(addr)) {
      host = "*";
      port = Number(addr);
    } else {
      host = addr;
      port = 80;
    }
    if (host === "*" || host === "0.0.0.0") host = wildcard.v4;
    else if (host === "::") host = wildcard.v6;
    else if (host === "localhost") host = "127.0.0.1";
    if (!out.some((e) => e.host === host && e.port === port)) out.push({ host, port, tls });
  }
  return out;
}

/** Loopback addresses for reaching wildcard listens: ones no server block listens on by name. */
export function wildcardAddresses(servers: NginxNode[]): { v4: string; v6: string } {
  const named = new Set(servers.flatMap((s) => endpoints(s, { v4: "*", v6: "*" })).map((e) => e.host));
  let k = 1;
  while (named.has(`127.0.0.${k}`)) k++;
  return { v4: `127.0.0.${k}`, v6: "::1" };
}

/** Host names a server block answers to, as a client would send them. */
function serverNames(server: NginxNode): string[] {
  const names: string[] = [];
  for (const d of (server.block ?? []).filter((x) => x.name === "server_name")) {
    for (const raw of d.args.map(unquote)) {
      if (raw === "" || raw === "_" || raw.startsWith("$")) continue;
      if (raw.startsWith("~")) {
        const sample = sampleOf(raw.slice(1), true);
        if (sample) names.push(sample);
      } else if (raw.startsWith("*.")) names.push(`congruent-verify.${raw.slice(2)}`);
      else if (raw.endsWith(".*")) names.push(`${raw.slice(0, -2)}.com`);
      else if (raw.startsWith(".")) names.push(raw.slice(1), `www${raw}`);
      else names.push(raw);
    }
  }
  return [...new Set(names)];
}

interface Location {
  node: NginxNode;
  /** It answers with live counters (stub_status). */
  dynamic: boolean;
  /** Sample request paths that reach this location (by nginx's matching rules, as far as they can be guessed). */
  samples: string[];
  proxied: boolean;
}

function locations(block: NginxNode[], out: Location[] = []): Location[] {
  for (const d of block) {
    if (d.name !== "location" || !d.block) continue;
    const args = d.args.map(unquote);
    const [modifier, pattern] = args.length > 1 ? [args[0]!, args[1]!] : ["", args[0] ?? "/"];
    const samples: string[] = [];
    if (modifier === "=") samples.push(pattern);
    else if (modifier === "~" || modifier === "~*") {
      const s = sampleOf(pattern, modifier === "~*");
      if (s) samples.push(s.startsWith("/") ? s : `/${s}`);
    } else if (!pattern.startsWith("@")) {
      samples.push(pattern);
      if (pattern.endsWith("/")) samples.push(`${pattern}congruent-verify`);
      else samples.push(`${pattern}/congruent-verify`);
    }
    const proxied = d.block.some((x) => PASSES.includes(x.name)) || d.block.some((x) => x.name === "try_files" && x.args.some((a) => unquote(a).startsWith("@")));
    out.push({ node: d, samples: samples.filter((s) => s.startsWith("/")), proxied, dynamic: d.block.some((x) => x.name === "stub_status") });
    locations(d.block, out);
  }
  return out;
}

/**
 * Files below a served root on the legacy host, as URIs: a few of each directory level, dot files
 * too (deny rules are about them), and directories (with and without the trailing slash: the
 * redirect nginx answers for the latter).
 */
function staticFiles(root: LegacyRoot, dir: string, uriBase: string, limit: number): string[] {
  const out: string[] = [];
  const queue: [string, string, number][] = [[dir, uriBase.replace(/\/$/, ""), 0]];
  while (queue.length && out.length < limit) {
    const [d, uri, depth] = queue.shift()!;
    const list = root.list(d).sort((a, b) => a.name.localeCompare(b.name));
    let files = 0;
    for (const e of list) {
      if (out.length >= limit) break;
      const u = `${uri}/${encodeURIComponent(e.name).replace(/%2F/g, "/")}`;
      if (e.isDirectory()) {
        if (depth < 3 && e.name !== ".git" && e.name !== "node_modules") {
          if (depth < 1) out.push(u, `${u}/`);
          queue.push([path.posix.join(d, e.name), u, depth + 1]);
        }
      } else if (files++ < 6) out.push(u);
    }
  }
  return out;
}

/**
 * The requests both hosts get, derived from the legacy configuration: every listen endpoint ×
 * every server name (and one name no server lists) × the server's locations (a path for each,
 * regular expressions sampled), its static files and directories, a missing path, the root;
 * GET with gzip accepted, HEAD, and for proxied and FastCGI locations POST and a WebSocket
 * upgrade. The same list, in the same order, goes to the legacy nginx and to the migrated one.
 *
 * @example const probes = deriveRequests(new LegacyRoot(dir), fact.http, fact.servers);
 */
export function deriveRequests(root: LegacyRoot, http: NginxNode[], servers: NginxNode[]): Probe[] {
  const probes: Probe[] = [];
  const base = { "accept-encoding": "gzip", "user-agent": "congruent-verify" };
  const seenDefault = new Set<string>();
  const wildcard = wildcardAddresses(servers);
  const httpVars = constantVars(http);
  const httpRoot = http.find((n) => n.name === "root");
  for (const server of servers) {
    const eps = endpoints(server, wildcard);
    const names = serverNames(server);
    const block = server.block ?? [];
    const vars = constantVars(block, httpVars);
    const rootNode = block.find((n) => n.name === "root") ?? httpRoot;
    const rootDir = rootNode ? legacyPath(rootNode, vars) : absolutePath("root", DEFAULT_ROOT, GENTOO_NGINX_BASES);
    const locs = locations(block);
    const paths: { method: string; path: string; headers?: Record<string, string>; body?: string; dynamic?: boolean }[] = [
      { method: "GET", path: "/" },
      { method: "HEAD", path: "/" },
      { method: "GET", path: "/?congruent=1&a=%C3%A9" },
      { method: "GET", path: MISSING },
      { method: "GET", path: `${MISSING}.php` },
      { method: "OPTIONS", path: "/" },
      { method: "DELETE", path: "/" },
    ];
    for (const l of locs) {
      for (const s of l.samples) {
        paths.push({ method: "GET", path: s, ...(l.dynamic ? { dynamic: true } : {}) });
        if (l.proxied) {
          paths.push({ method: "POST", path: s, headers: { "content-type": "application/x-www-form-urlencoded" }, body: "congruent=1" });
          paths.push({ method: "GET", path: s, headers: { upgrade: "websocket", connection: "upgrade" } });
        }
      }
      // A location with a root or alias of its own serves its own files: a few of them, by URI.
      const own = l.node.block?.find((d) => d.name === "alias" || d.name === "root");
      const args = l.node.args.map(unquote);
      const prefix = args.length === 1 ? args[0]! : args[0] === "^~" ? args[1]! : undefined;
      const dir = own ? legacyPath(own, constantVars(l.node.block ?? [], vars)) : undefined;
      if (own && dir && prefix?.startsWith("/")) {
        const served = own.name === "alias" ? dir : path.posix.join(dir, prefix);
        if (root.isDir(served)) for (const u of staticFiles(root, served, prefix, 12)) paths.push({ method: "GET", path: u });
      }
    }
    if (rootDir && root.isDir(rootDir)) for (const u of staticFiles(root, rootDir, "/", 30)) paths.push({ method: "GET", path: u });
    const unique = [...new Map(paths.map((p) => [`${p.method} ${p.path} ${JSON.stringify(p.headers ?? {})}`, p])).values()];

    let count = 0;
    for (const ep of eps) {
      const key = endpointKey(ep);
      const epNames = [...names];
      if (!seenDefault.has(key)) {
        seenDefault.add(key);
        epNames.push(UNKNOWN_NAME);
      }
      if (epNames.length === 0) epNames.push(ep.socket ? "localhost" : ep.host.includes(":") ? `[${ep.host}]` : ep.host);
      epNames.forEach((name, i) => {
        // Every path for the first name of the first endpoint; a cross-section for the others.
        const list = ep === eps[0] && i === 0 ? unique : unique.filter((_, j) => j < 7 || j % 5 === 0);
        for (const p of list) {
          if (count++ >= PER_SERVER) return;
          probes.push({ endpoint: ep, name, method: p.method, path: p.path, headers: { ...base, ...(p.headers ?? {}) }, ...(p.body ? { body: p.body } : {}), ...(p.dynamic ? { dynamic: true } : {}) });
        }
      });
    }
  }
  return probes;
}
