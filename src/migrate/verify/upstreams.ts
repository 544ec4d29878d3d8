import net from "node:net";
import { unquote, type NginxNode } from "../../components/nginx/syntax.js";
import type { StubKind } from "./stubs.js";

/** Where an upstream stub listens, as nginx names it. */
export interface UpstreamTarget {
  kind: StubKind;
  host?: string;
  port?: number;
  /** A Unix socket path on the host. */
  socket?: string;
}

const PASS_KIND: Record<string, StubKind> = { proxy_pass: "http", fastcgi_pass: "fastcgi", uwsgi_pass: "uwsgi", scgi_pass: "scgi" };

function walk(nodes: NginxNode[], visit: (n: NginxNode) => void): void {
  for (const n of nodes) {
    visit(n);
    if (n.block) walk(n.block, visit);
  }
}

/** `host:port`, `[v6]:port`, `unix:/path`, `host` (with a default port) → target parts. */
function address(text: string, defaultPort: number): { host?: string; port?: number; socket?: string } | undefined {
  if (text.startsWith("unix:")) return text.length > 5 ? { socket: text.slice(5).replace(/:$/, "") } : undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: Number(v6[2] ?? defaultPort) };
  const m = /^([^:/]+)(?::(\d+))?$/.exec(text);
  return m ? { host: m[1]!, port: Number(m[2] ?? defaultPort) } : undefined;
}

/**
 * The upstreams a configuration passes requests to (proxy_pass, fastcgi_pass, uwsgi_pass,
 * scgi_pass; directly or through an `upstream` block), each with the protocol a stub must speak,
 * and the host names among them, which get an address of their own on both hosts (127.1.0.N,
 * written to /etc/hosts in both views) so nginx resolves them the same. Targets named by a
 * variable are decided per request and not stubbed; an https upstream is not stubbed either
 * (both hosts answer 502 alike).
 */
export function upstreams(http: NginxNode[], servers: NginxNode[]): { targets: UpstreamTarget[]; names: Map<string, string> } {
  const blocks = new Map<string, NginxNode>();
  for (const n of http) if (n.name === "upstream" && n.block) blocks.set(unquote(n.args[0] ?? ""), n);
  const targets: UpstreamTarget[] = [];
  const names = new Map<string, string>();
  const add = (kind: StubKind, a: { host?: string; port?: number; socket?: string }) => {
    if (a.host && !net.isIP(a.host) && a.host !== "localhost") {
      if (!names.has(a.host)) names.set(a.host, `127.1.0.${names.size + 1}`);
      a = { ...a, host: names.get(a.host)! };
    } else if (a.host === "localhost") a = { ...a, host: "127.0.0.1" };
    if (!targets.some((t) => t.kind === kind && t.host === a.host && t.port === a.port && t.socket === a.socket)) targets.push({ kind, ...a });
  };
  walk([...http, ...servers], (n) => {
    const kind = PASS_KIND[n.name];
    if (!kind || !n.args[0]) return;
    let target = unquote(n.args[0]);
    if (target.includes("$")) return;
    let defaultPort = 80;
    if (kind === "http") {
      // `http://unix:/run/app.sock:/uri`: the socket's path runs to the colon before the URI.
      const m = /^(https?):\/\/(unix:[^:]*|[^/]+)/.exec(target);
      if (!m) return;
      if (m[1] === "https") {
        // No stub speaks TLS, but nginx resolves the name at start on both hosts alike.
        const host = address(m[2]!, 443)?.host;
        if (host && !net.isIP(host) && !blocks.has(m[2]!) && !names.has(host)) names.set(host, `127.1.0.${names.size + 1}`);
        return;
      }
      target = m[2]!;
    } else defaultPort = 9000;
    const block = blocks.get(target) ?? blocks.get(target.replace(/:\d+$/, ""));
    if (block) {
      for (const s of block.block!.filter((d) => d.name === "server")) {
        const a = address(unquote(s.args[0] ?? ""), defaultPort);
        if (a) add(kind, a);
      }
      return;
    }
    const a = address(target, defaultPort);
    if (a) add(kind, a);
  });
  return { targets, names };
}

// Variables whose value differs on every request (or connection): what carries them cannot be compared.
const VOLATILE = /\$\{?(request_id|msec|time_local|time_iso8601|connection|connection_requests|connection_time|pid|remote_port|request_time|upstream_\w+_time|upstream_response_time|date_local|date_gmt)\b/;
const TO_UPSTREAM = new Set(["proxy_set_header", "fastcgi_param", "uwsgi_param", "scgi_param", "grpc_set_header"]);

/**
 * Names a configuration fills from per-request variables ($request_id, $msec…): headers and
 * parameters sent upstream (the stubs echo them as "varies"), and response headers (compared by
 * presence only). Both hosts fill them, each with its own moment's value.
 */
export function volatileNames(http: NginxNode[], servers: NginxNode[]): { upstream: string[]; response: string[] } {
  const upstream = new Set<string>();
  const response = new Set<string>();
  walk([...http, ...servers], (n) => {
    const [name, value] = [unquote(n.args[0] ?? ""), unquote(n.args[1] ?? "")];
    // ngx_http_userid_module gives every new client a cookie of its own (a random uid).
    if (n.name === "userid" && (name === "on" || name === "v1")) response.add("set-cookie");
    if (!VOLATILE.test(value)) return;
    if (TO_UPSTREAM.has(n.name)) upstream.add(n.name === "proxy_set_header" || n.name === "grpc_set_header" ? name.toLowerCase() : name);
    else if (n.name === "add_header") response.add(name.toLowerCase());
  });
  return { upstream: [...upstream], response: [...response] };
}
