/**
 * The fleet's network: one bridge in the machine's namespace and, per machine of the fleet, a
 * network namespace joined to it by a veth pair, with an address of a private /24 that nothing
 * on this machine uses. Every name carries this run's prefix (`cgi` + the PID in base 36), so
 * runs of other sessions never collide with it, and leftovers of a run that died without its
 * teardown are recognised by their dead PID and removed by the next run.
 *
 *   test process ── cgiXbr 10.A.B.1 ──┬── cgiXv1 ═ eth0 10.A.B.11  (netns cgiX-dir1)
 *                                     └── cgiXv2 ═ eth0 10.A.B.12  (netns cgiX-web1) …
 *
 * @example
 *   const net = Network.create(teardown);
 *   const web1 = net.node("web1");           // { netns: "cgi1a2b-web1", address: "10.77.3.11", … }
 *   net.setLink(web1, false);                // its cable pulled: the veth goes down
 */
import { spawnSync } from "node:child_process";
import { processAlive } from "../../../src/store/atomic.js";
import type { Teardown } from "./teardown.js";

export interface Node {
  name: string;
  /** The network namespace, `ip netns exec NETNS …` runs in it. */
  netns: string;
  /** Its bind-mounted namespace file, for `nsenter --net=` or a box's networkNamespace. */
  netnsPath: string;
  address: string;
  /** The veth end on the bridge: set it down to pull the node's cable. */
  veth: string;
}

/** Run `ip ARGS`; throws with ip's own message when it fails. */
export function ip(args: string[]): string {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim()}`);
  return r.stdout;
}

const quiet = (args: string[]) => {
  try {
    ip(args);
  } catch {
    // already gone
  }
};

const PREFIX_RE = /^cgi([0-9a-z]+)(?:br|v\d+|-.+)$/;

/** Kill every process left in a network namespace (they can only be ours: the namespace is). */
function killInside(netns: string): void {
  const r = spawnSync("ip", ["netns", "pids", netns], { encoding: "utf8" });
  for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** Remove the namespaces and links of earlier runs of this suite whose process is gone. */
function sweepDeadRuns(): string[] {
  const removed: string[] = [];
  const dead = (name: string) => {
    const m = PREFIX_RE.exec(name);
    return m !== null && !processAlive(parseInt(m[1]!, 36));
  };
  for (const line of ip(["netns", "list"]).split("\n")) {
    const name = line.split(" ")[0]!;
    if (!dead(name)) continue;
    killInside(name);
    quiet(["netns", "del", name]);
    removed.push(name);
  }
  for (const line of ip(["-o", "link", "show"]).split("\n")) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (!name || !dead(name)) continue;
    quiet(["link", "del", name]);
    removed.push(name);
  }
  return removed;
}

/** Does 10.a.b.0/24 overlap any IPv4 address or route of this machine? */
function inUse(a: number, b: number): boolean {
  const toInt = (dotted: string) => dotted.split(".").reduce((n, part) => n * 256 + Number(part), 0);
  const ours = toInt(`10.${a}.${b}.0`);
  const text = ip(["-4", "-o", "addr", "show"]) + ip(["-4", "route", "show", "table", "all"]);
  for (const [, base, bits] of text.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const len = Math.min(Number(bits ?? 32), 24);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    if (((toInt(base!) & mask) >>> 0) === ((ours & mask) >>> 0) && !(len === 0 && base === "0.0.0.0")) return true;
  }
  return false;
}

export class Network {
  private nodes = 0;

  private constructor(
    /** `cgi<pid base 36>`: every name this run makes starts with it. */
    readonly prefix: string,
    readonly bridge: string,
    /** The first three octets of the /24, e.g. "10.77.3". */
    readonly subnet: string,
    private readonly teardown: Teardown,
  ) {}

  /** The test process's own address on the bridge (probes and admin commands come from it). */
  get gateway(): string {
    return `${this.subnet}.1`;
  }

  /** Make the bridge on an unused /24; torn down (with every node) by `teardown`. */
  static create(teardown: Teardown): Network {
    const swept = sweepDeadRuns();
    if (swept.length) process.stderr.write(`infra: removed what dead runs left: ${swept.join(", ")}\n`);
    const prefix = `cgi${process.pid.toString(36)}`;
    const bridge = `${prefix}br`;
    for (let tries = 0; tries < 50; tries++) {
      const a = 64 + Math.floor(Math.random() * 180);
      const b = Math.floor(Math.random() * 256);
      if (inUse(a, b)) continue;
      ip(["link", "add", bridge, "type", "bridge"]);
      teardown.add(`bridge ${bridge}`, () => quiet(["link", "del", bridge]));
      ip(["addr", "add", `10.${a}.${b}.1/24`, "dev", bridge]);
      ip(["link", "set", bridge, "up"]);
      // Another run may have taken the same /24 between the check and now: then try another.
      const routes = ip(["-4", "route", "show", `10.${a}.${b}.0/24`]).trim().split("\n");
      if (routes.length === 1) return new Network(prefix, bridge, `10.${a}.${b}`, teardown);
      ip(["link", "del", bridge]);
    }
    throw new Error("no unused private /24 found in 10.64.0.0–10.243.255.0");
  }

  /** A new machine: its namespace (loopback up), a veth to the bridge, the next address. */
  node(name: string): Node {
    const n = ++this.nodes;
    const netns = `${this.prefix}-${name}`;
    const veth = `${this.prefix}v${n}`;
    const address = `${this.subnet}.${10 + n}`;
    ip(["netns", "add", netns]);
    this.teardown.add(`netns ${netns}`, () => {
      killInside(netns);
      quiet(["netns", "del", netns]);
    });
    ip(["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns]);
    this.teardown.add(`veth ${veth}`, () => quiet(["link", "del", veth]));
    ip(["link", "set", veth, "master", this.bridge, "up"]);
    ip(["-n", netns, "addr", "add", `${address}/24`, "dev", "eth0"]);
    ip(["-n", netns, "link", "set", "eth0", "up"]);
    ip(["-n", netns, "link", "set", "lo", "up"]);
    return { name, netns, netnsPath: `/run/netns/${netns}`, address, veth };
  }

  /** Plug or pull a node's cable: its veth on the bridge up or down (the processes are not touched). */
  setLink(node: Node, up: boolean): void {
    ip(["link", "set", node.veth, up ? "up" : "down"]);
  }
}
