import { chmodSync, mkdirSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";

/**
 * Upstreams for the behavioural verify: the same small servers answer the legacy nginx and the
 * migrated one, each echoing what it was sent (method, URI, headers or FastCGI/uwsgi/SCGI
 * parameters, body size), so a difference in what nginx passes upstream shows in the body the
 * client gets. What a connection varies by (the client's port) is left out.
 */
export type StubKind = "http" | "fastcgi" | "uwsgi" | "scgi";

export interface StubSpec {
  kind: StubKind;
  host?: string;
  port?: number;
  /** A Unix socket path (already resolved into the view's root). */
  socket?: string;
}

// The client's port differs per connection; what the configuration fills from per-request
// variables ($request_id…) is added per run (startStubs' `volatile`).
const VARYING = new Set(["REMOTE_PORT"]);

const echoBody = (kind: StubKind, lines: string[], bodyBytes: number) => `${kind} stub\n${lines.sort().join("\n")}\nbody-bytes: ${bodyBytes}\n`;
const pair = (k: string, v: string, sep: string) => `${k}${sep}${VARYING.has(k) ? "(varies per request)" : v}`;

function httpStub(): net.Server {
  return http.createServer((req, res) => {
    let bytes = 0;
    req.on("data", (d: Buffer) => (bytes += d.length));
    req.on("end", () => {
      const lines = [`request: ${req.method} ${req.url} HTTP/${req.httpVersion}`, ...Object.entries(req.headers).map(([k, v]) => pair(k, Array.isArray(v) ? v.join(", ") : (v ?? ""), ": "))];
      const body = echoBody("http", lines, bytes);
      res.writeHead(200, { "content-type": "text/plain", "x-powered-by": "congruent-stub", "set-cookie": "stub=1; Path=/", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
}

/** FastCGI (the protocol php-fpm speaks): BEGIN_REQUEST, PARAMS, STDIN in; STDOUT, END_REQUEST out. */
function fastcgiStub(): net.Server {
  return net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    const params = new Map<number, Buffer[]>();
    const stdin = new Map<number, number>();
    const keep = new Map<number, boolean>();
    const record = (type: number, id: number, content: Buffer) => {
      const head = Buffer.alloc(8);
      head.writeUInt8(1, 0);
      head.writeUInt8(type, 1);
      head.writeUInt16BE(id, 2);
      head.writeUInt16BE(content.length, 4);
      return Buffer.concat([head, content]);
    };
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const type = buf.readUInt8(1);
        const id = buf.readUInt16BE(2);
        const len = buf.readUInt16BE(4);
        const pad = buf.readUInt8(6);
        if (buf.length < 8 + len + pad) break;
        const content = buf.subarray(8, 8 + len);
        buf = buf.subarray(8 + len + pad);
        if (type === 1) keep.set(id, (content.readUInt8(2) & 1) === 1);
        else if (type === 4 && len > 0) params.set(id, [...(params.get(id) ?? []), Buffer.from(content)]);
        else if (type === 5 && len > 0) stdin.set(id, (stdin.get(id) ?? 0) + len);
        else if (type === 5) {
          const pairs = decodePairs(Buffer.concat(params.get(id) ?? []));
          const body = echoBody("fastcgi", pairs.map(([k, v]) => pair(k, v, "=")), stdin.get(id) ?? 0);
          const out = Buffer.from(`Status: 200 OK\r\nContent-Type: text/plain\r\nX-Powered-By: congruent-stub\r\n\r\n${body}`);
          const chunks: Buffer[] = [];
          for (let o = 0; o < out.length; o += 65535) chunks.push(record(6, id, out.subarray(o, o + 65535)));
          chunks.push(record(6, id, Buffer.alloc(0)), record(3, id, Buffer.alloc(8)));
          socket.write(Buffer.concat(chunks));
          if (!keep.get(id)) socket.end();
          params.delete(id);
          stdin.delete(id);
        }
      }
    });
    socket.on("error", () => socket.destroy());
  });
}

/** FastCGI name-value pairs: lengths of one byte, or four with the high bit set. */
function decodePairs(b: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  const len = () => {
    const first = b.readUInt8(i);
    if (first < 128) {
      i += 1;
      return first;
    }
    const n = b.readUInt32BE(i) & 0x7fffffff;
    i += 4;
    return n;
  };
  while (i < b.length) {
    const kl = len();
    const vl = len();
    out.push([b.subarray(i, i + kl).toString(), b.subarray(i + kl, i + kl + vl).toString()]);
    i += kl + vl;
  }
  return out;
}

/**
 * A stream stub that reads the whole request before answering once: `answer` sees what has come so
 * far and returns the reply when it is complete, undefined while it waits for more.
 */
function wholeRequest(answer: (buf: Buffer) => string | undefined): net.Server {
  return net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    let done = false;
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const reply = done ? undefined : answer(buf);
      if (reply === undefined) return;
      done = true;
      socket.end(reply);
    });
    socket.on("error", () => socket.destroy());
  });
}

const contentLength = (vars: [string, string][]) => Number(vars.find(([k]) => k === "CONTENT_LENGTH")?.[1] ?? 0);

/** uwsgi: a 4-byte header, the variables with 2-byte lengths, then the body; a raw HTTP answer. */
function uwsgiStub(): net.Server {
  return wholeRequest((buf) => {
    if (buf.length < 4) return undefined;
    const size = buf.readUInt16LE(1);
    if (buf.length < 4 + size) return undefined;
    const vars: [string, string][] = [];
    for (let i = 4; i < 4 + size; ) {
      const kl = buf.readUInt16LE(i);
      const k = buf.subarray(i + 2, i + 2 + kl).toString();
      const vl = buf.readUInt16LE(i + 2 + kl);
      vars.push([k, buf.subarray(i + 4 + kl, i + 4 + kl + vl).toString()]);
      i += 4 + kl + vl;
    }
    const want = contentLength(vars);
    if (buf.length < 4 + size + want) return undefined;
    const body = echoBody("uwsgi", vars.map(([k, v]) => pair(k, v, "=")), want);
    return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  });
}

/** SCGI: a netstring of NUL-separated headers, then the body; a CGI-style answer. */
function scgiStub(): net.Server {
  return wholeRequest((buf) => {
    const colon = buf.indexOf(":");
    if (colon < 0) return undefined;
    const size = Number(buf.subarray(0, colon).toString());
    if (buf.length < colon + 1 + size + 1) return undefined;
    const parts = buf.subarray(colon + 1, colon + 1 + size).toString().split("\0");
    const vars: [string, string][] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) vars.push([parts[i]!, parts[i + 1]!]);
    const want = contentLength(vars);
    if (buf.length < colon + 2 + size + want) return undefined;
    return `Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n${echoBody("scgi", vars.map(([k, v]) => pair(k, v, "=")), want)}`;
  });
}

const MAKERS: Record<StubKind, () => net.Server> = { http: httpStub, fastcgi: fastcgiStub, uwsgi: uwsgiStub, scgi: scgiStub };

/**
 * Start every stub; resolves with the servers once all listen (a socket's directory is made and
 * the socket opened to everyone, as nginx's workers run as another user).
 */
export async function startStubs(specs: StubSpec[], volatile: string[] = []): Promise<net.Server[]> {
  for (const v of volatile) VARYING.add(v);
  const servers: net.Server[] = [];
  for (const s of specs) {
    const server = MAKERS[s.kind]();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if (s.socket) {
        mkdirSync(path.dirname(s.socket), { recursive: true });
        rmSync(s.socket, { force: true });
        // sun_path holds 108 bytes: a deeper path is bound relative to its directory.
        const cwd = process.cwd();
        const long = s.socket.length >= 100;
        if (long) process.chdir(path.dirname(s.socket));
        try {
          // listen() binds before it returns: the directory is only needed for that moment.
          server.listen(long ? path.basename(s.socket) : s.socket, () => {
            chmodSync(s.socket!, 0o777);
            resolve();
          });
        } finally {
          if (long) process.chdir(cwd);
        }
      } else server.listen(s.port!, s.host!, () => resolve());
    }).catch(() => undefined); // an address the view cannot take: nginx meets a closed port on both sides
    servers.push(server);
  }
  return servers;
}
