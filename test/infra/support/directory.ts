import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { DirectoryClient } from "../../../src/directory/client.js";
import { CLI } from "../../helpers.js";
import type { Node } from "./network.js";
import type { Teardown } from "./teardown.js";

export const DIRECTORY_PORT = 8470;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One `congruent directory serve` process on a machine of the fleet (its own network
 * namespace), as an operator runs it; the suite talks to it over the bridge like any admin.
 * It can be stopped, killed with SIGKILL and started again on the same database.
 *
 * @example
 *   const d = new DirectoryProcess(node, { db: pg.url("congruent"), adminTokenFile, log }, teardown);
 *   await d.start(); await d.admin.listHosts(); d.kill9();
 */
export class DirectoryProcess {
  private child: ChildProcess | undefined;
  /** The admin's client, from the test process over the bridge. */
  readonly admin: DirectoryClient;

  constructor(
    readonly node: Node,
    private readonly opts: { db: string; adminTokenFile: string; log: string; ca: string; cert: string; key: string },
    teardown: Teardown,
  ) {
    this.admin = this.client(readFileSync(opts.adminTokenFile, "utf8").trim());
    teardown.add(`directory on ${node.name}`, () => this.stop());
  }

  get url(): string {
    return `https://${this.node.address}:${DIRECTORY_PORT}`;
  }

  /** A client of this directory with `token`, trusting the fleet's CA. */
  client(token: string): DirectoryClient {
    return new DirectoryClient({ url: this.url, token, ca: readFileSync(this.opts.ca), timeoutMs: 5_000 });
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Start it (`ip netns exec` execs node: the PID is the directory's) and wait for /v1/health. */
  async start(): Promise<void> {
    const log = openSync(this.opts.log, "a");
    const args = ["netns", "exec", this.node.netns, process.execPath, CLI, "directory", "serve", "--db", this.opts.db, "--listen", `${this.node.address}:${DIRECTORY_PORT}`, "--admin-token-file", this.opts.adminTokenFile, "--log-level", "warn",
      "--tls-cert", this.opts.cert, "--tls-key", this.opts.key,
      // The agents' timer runs every 2 s here, not every 10 minutes: each host may report as often.
      "--report-burst", "60", "--report-rate", "120"];
    const child = spawn("ip", args, { stdio: ["ignore", log, log] });
    closeSync(log);
    this.child = child;
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`directory on ${this.node.name} exited with ${child.exitCode}: ${readFileSync(this.opts.log, "utf8").slice(-2000)}`);
      if (await this.admin.health().then(() => true, () => false)) return;
      await sleep(50);
    }
    throw new Error(`directory on ${this.node.name} did not answer /v1/health within 30 s`);
  }

  /** kill -9: what a crash of its machine looks like to the agents. */
  kill9(): void {
    if (this.pid) process.kill(this.pid, "SIGKILL");
  }

  /** SIGTERM (it closes cleanly), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
