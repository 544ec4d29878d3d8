/**
 * What tests ask of the machine a service runs on: an HTTP answer, a TCP exchange, whether a
 * process lives. The same functions run in the test process (s6 on this machine) and inside a
 * systemd box (through its agent, test/support/box-agent.ts), where the box's loopback and PIDs are.
 *
 * @example await probes.httpGet(8080) // "hello"
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";

/** GET http://127.0.0.1:port/path with an optional Host header; resolves to status and body (rejects on no answer). */
export function http1(port: number, urlPath = "/", host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath, agent: false, timeout: 5_000, headers: host ? { host } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout"))).on("error", reject);
  });
}

/** The body of GET /path on 127.0.0.1:port. */
export async function httpGet(port: number, urlPath = "/"): Promise<string> {
  return (await http1(port, urlPath)).body;
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("connect", () => (socket.destroy(), resolve(true))).on("error", () => resolve(false));
  });
}

/** Send one text-protocol request (memcached) and read until a final line (END, STORED, VERSION …, ERROR). */
export function tcpRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let answer = "";
    socket.setTimeout(3000, () => socket.destroy(new Error("timeout")));
    socket.on("connect", () => socket.write(`${request}\r\n`));
    socket.on("data", (d) => {
      answer += d;
      if (/(^|\r\n)(END|VERSION [^\r]*|STORED|DELETED|NOT_FOUND|ERROR[^\r]*)\r\n$/.test(answer)) {
        socket.end();
        resolve(answer);
      }
    });
    socket.on("error", reject);
  });
}

/** Alive and not a zombie. */
export function isAlive(pid: number): Promise<boolean> {
  const stat = readText(`/proc/${pid}/stat`);
  return Promise.resolve(stat !== "" && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z");
}

/** Send `signal` to `pid`; a process already gone is not an error. */
export function kill(pid: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
  return Promise.resolve();
}

/** /proc/<pid>/status ("" once the process is gone). */
export function procStatus(pid: number): Promise<string> {
  return Promise.resolve(readText(`/proc/${pid}/status`));
}

/** PIDs of the direct children of `pid`. */
export function childrenOf(pid: number): Promise<number[]> {
  const text = readText(`/proc/${pid}/task/${pid}/children`).trim();
  return Promise.resolve(text ? text.split(/\s+/).map(Number) : []);
}

const occupied = new Map<number, net.Server>();

/** Listen on 127.0.0.1:port (hanging up on every client) until release(port): a port some other program holds. */
export function occupy(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => (occupied.set(port, server), resolve()));
  });
}

export function release(port: number): Promise<void> {
  const server = occupied.get(port);
  occupied.delete(port);
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Every probe, as one object: what a target (this machine, or a box through its agent) offers. */
export const localProbes = { http1, httpGet, portOpen, tcpRequest, isAlive, kill, procStatus, childrenOf, occupy, release };
export type Probes = typeof localProbes;
