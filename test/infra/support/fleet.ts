import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { HostCreate } from "../../../src/directory/api.js";
import { tempDir } from "../../helpers.js";
import { Box } from "../../support/box.js";
import { startPostgres } from "../../support/postgres.js";
import { makeCa, type TestCa } from "../../support/tls.js";
import { DirectoryProcess } from "./directory.js";
import { S6Host, SystemdHost, type FleetHost } from "./host.js";
import { Network, type Node } from "./network.js";
import { Prober, type ProbeTarget } from "./probes.js";
import { Teardown } from "./teardown.js";
import { Timer } from "./timer.js";

export interface HostSpec {
  name: string;
  roles: string[];
  supervisor: "s6" | "systemd";
  /** Its state directory on a small file system of its own (a size-limited tmpfs the suite mounts). */
  smallState?: boolean;
}

/** What each role serves, as the probes reach it. */
const SERVICES: Record<string, ProbeTarget["services"][number]> = { webgateway: "nginx", redis: "redis", postgresql15: "postgresql" };
/** Open all day, every day: restarts apply at once unless a scenario sets a narrower window. */
export const ALWAYS = { schedule: "daily 00:00-24:00", timezone: "UTC" };
export const SMALL_STATE_MIB = 24;
/** The checkout, bound into the box (the built CLI, node_modules). */
const REPO = path.resolve(import.meta.dirname, "../../..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The fleet under test: a directory machine, the hosts (s6 for most, one under systemd as PID 1
 * of a box), each in its own network namespace on one bridge; PostgreSQL as the directory's
 * database (reached over its socket: the database link never goes down in these scenarios); the
 * probes; every host's agent timer (not started: the first scenario starts them).
 *
 * @example const fleet = await Fleet.start(SPECS); … await fleet.teardown.run();
 */
export class Fleet {
  readonly hosts: FleetHost[] = [];
  readonly timers = new Map<string, Timer>();
  readonly directories: DirectoryProcess[] = [];
  readonly prober = new Prober(500);
  private box: Box | undefined;

  private constructor(
    readonly teardown: Teardown,
    readonly root: string,
    readonly network: Network,
    readonly db: string,
    readonly adminTokenFile: string,
    readonly specs: HostSpec[],
    /** The fleet's private CA: the directories serve https with certificates it signed. */
    readonly ca: TestCa,
  ) {}

  static async start(specs: HostSpec[], timerMs: number): Promise<Fleet> {
    const teardown = new Teardown();
    try {
      const root = tempDir("congruent-infra-");
      teardown.add(`directory ${root}`, () => rmSync(root, { recursive: true, force: true }));
      // Servers running as their own users (postgres, redis) must reach their state directories.
      chmodSync(root, 0o755);
      const network = Network.create(teardown);
      const pg = await startPostgres();
      teardown.add("PostgreSQL", () => pg.stop());
      await pg.createDatabase("congruent");
      const db = `postgres://postgres@localhost:${pg.port}/congruent?host=${encodeURIComponent(pg.socketDir)}`;
      const adminTokenFile = path.join(root, "admin.token");
      writeFileSync(adminTokenFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
      const fleet = new Fleet(teardown, root, network, db, adminTokenFile, specs, makeCa(root));
      await fleet.addDirectory("dir1");
      await fleet.admin.createResourceGroup({ name: "acme" });
      await fleet.admin.createChannel({ name: "stable", canaryShare: 100 });
      await fleet.admin.createRelease("stable", { version: "2026.12.0", defaults: { webgateway: { nginx: { worker_processes: 1 } } } });
      await fleet.admin.promote("stable", { number: 1 });
      for (const spec of specs) await fleet.addHost(spec, timerMs);
      teardown.add("timers and probes", async () => {
        await Promise.all([...fleet.timers.values()].map((t) => t.stop()));
        await fleet.prober.stop();
      });
      fleet.prober.start();
      return fleet;
    } catch (error) {
      await teardown.run();
      throw error;
    }
  }

  /** The first directory: where the admin works. */
  get admin() {
    return this.directories[0]!.admin;
  }

  host(name: string): FleetHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  timer(name: string): Timer {
    return this.timers.get(name)!;
  }

  /** What the probes reach on a host, by its roles. */
  target(host: FleetHost): ProbeTarget {
    return { host: host.name, address: host.address, stateDir: host.stateDir, services: this.spec(host.name).roles.map((r) => SERVICES[r]).filter((s) => s !== undefined) };
  }

  spec(name: string): HostSpec {
    return this.specs.find((s) => s.name === name)!;
  }

  /** A directory process on a machine of its own, on the shared database. */
  async addDirectory(name: string): Promise<DirectoryProcess> {
    const node = this.network.node(name);
    const pair = this.ca.issue(name, [node.address]);
    const d = new DirectoryProcess(node, { db: this.db, adminTokenFile: this.adminTokenFile, log: path.join(this.root, `${name}.log`), ca: this.ca.caCert, ...pair }, this.teardown);
    await d.start();
    this.directories.push(d);
    return d;
  }

  private async addHost(spec: HostSpec, timerMs: number): Promise<void> {
    // Undone in reverse: the services stop, then what is left in the namespace is killed, then
    // the small file system is unmounted (nothing holds it any more).
    let node: Node;
    let base: string;
    if (spec.supervisor === "systemd") {
      node = this.network.node(spec.name);
      base = (await this.bootBox(node)).tempDir(`${spec.name}-`);
    } else {
      base = path.join(this.root, spec.name);
    }
    const dirs = { state: path.join(base, "state"), local: path.join(base, "local"), token: path.join(base, "token"), ca: path.join(base, "ca.crt"), work: base };
    mkdirSync(dirs.state, { recursive: true, mode: 0o755 });
    mkdirSync(dirs.local, { recursive: true });
    if (spec.smallState) this.mountSmall(dirs.state);
    node ??= this.network.node(spec.name);
    const settings: HostCreate["settings"] = spec.roles.includes("redis") ? { redis: { bind: `127.0.0.1 ${node.address}`, appendonly: "yes" } } : {};
    const created = await this.admin.createHost({ name: spec.name, resourceGroup: "acme", roles: spec.roles, channel: "stable", settings, maintenanceWindow: ALWAYS });
    writeFileSync(dirs.token, `${created.token}\n`, { mode: 0o600 });
    copyFileSync(this.ca.caCert, dirs.ca);
    const host = spec.supervisor === "systemd" ? new SystemdHost(this.box!, spec.name, node, dirs) : new S6Host(spec.name, node, dirs);
    host.directoryUrl = this.directories[0]!.url;
    if (host instanceof SystemdHost) await host.install();
    host.writeSite("v1");
    this.teardown.add(`services of ${spec.name}`, () => host.down());
    this.hosts.push(host);
    this.timers.set(spec.name, new Timer(host, timerMs));
  }

  /** The one box of the suite (systemd as PID 1), booted in its host's network namespace. */
  private async bootBox(node: Node): Promise<Box> {
    if (this.box) throw new Error("one systemd host per fleet: the suite boots one box");
    const boot = () => Box.boot({ binds: [REPO], networkNamespace: node.netnsPath });
    // One retry, said out loud (as the systemd suites do): a second failure fails the suite.
    this.box = await boot().catch((error: Error) => {
      process.stderr.write(`infra: systemd box: first boot failed, trying once more: ${error.message}\n`);
      return boot();
    });
    const box = this.box;
    this.teardown.add("systemd box", () => box.shutdown());
    process.stderr.write(`infra: systemd box booted in ${box.bootMs} ms in ${node.netns}\n`);
    return box;
  }

  /** A size-limited tmpfs on `dir`: the host's whole state file system. */
  private mountSmall(dir: string): void {
    const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${SMALL_STATE_MIB}m,mode=0755`, "tmpfs", dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr}`);
    this.teardown.add(`tmpfs ${dir}`, async () => {
      for (let i = 0; i < 50; i++) {
        if (spawnSync("umount", [dir]).status === 0) return;
        await sleep(100);
      }
      spawnSync("umount", ["-l", dir]);
    });
  }
}
