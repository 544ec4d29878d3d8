import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Report } from "../../../src/directory/api.js";
import { CLI, cli } from "../../helpers.js";
import type { Box } from "../../support/box.js";
import type { Node } from "./network.js";

/** One run of an agent, as the suite saw it. */
export interface AgentRun {
  host: string;
  /** The test's clock (ms) when the run began and ended. */
  began: number;
  ended: number;
  /** Exit status, or null when a signal ended it (kill -9). */
  exit: number | null;
  /** What the agent printed (`--json`): its report and whether it reached the directory; absent when it printed none. */
  out?: { report: Report; delivered: boolean };
  stderr: string;
}

export interface RunOptions {
  /** Environment of this run only (e.g. CONGRUENT_FAULT_KILL_AT). */
  env?: Record<string, string>;
  /** A command the agent runs under, e.g. ["faketime", "-f", "+7h"], and node's own arguments. */
  wrapper?: string[];
  nodeArgs?: string[];
  /** Called with the agent's PID once it runs (s6 hosts). */
  onSpawn?: (pid: number) => void;
}

/** Where a host keeps its state, integration points, token and CA file (`work`: scratch of the suite). */
export interface HostDirs {
  state: string;
  local: string;
  token: string;
  ca: string;
  work: string;
}

export interface HostStatus {
  generation: string | null;
  services: { name: string; state: string; pid: number | null }[];
  pending: unknown[];
  interrupted?: { target: string; done: string[]; left: string[] };
}

const parseOut = (stdout: string): AgentRun["out"] => {
  const start = stdout.indexOf("{");
  if (start < 0) return undefined;
  try {
    return JSON.parse(stdout.slice(start)) as AgentRun["out"];
  } catch {
    return undefined;
  }
};

/**
 * A host of the fleet: a machine (network namespace) with its own state directory, integration
 * points, supervisor and agent. The agent runs as its timer would run it: one `manage --once` per
 * tick (see Timer); every run is recorded for the suite's accounting of reports.
 */
export abstract class FleetHost {
  readonly runs: AgentRun[] = [];
  /** The directory this host's agent talks to (scenario 4 splits the fleet across two). */
  directoryUrl = "";
  private current: Promise<AgentRun> | undefined;

  readonly stateDir: string;
  readonly localDir: string;
  readonly tokenFile: string;
  /** The CA the directories' certificates are signed by (`--ca`). */
  readonly caFile: string;

  constructor(
    readonly name: string,
    readonly node: Node,
    dirs: HostDirs,
  ) {
    this.stateDir = dirs.state;
    this.localDir = dirs.local;
    this.tokenFile = dirs.token;
    this.caFile = dirs.ca;
  }

  protected abstract agent(options: RunOptions): Promise<Omit<AgentRun, "host" | "began" | "ended">>;
  /** `congruent status --json` where the host's supervisor is reachable. */
  abstract status(): Promise<HostStatus>;
  /** Stop every service of the host and its supervisor. */
  abstract down(): Promise<void>;

  get address(): string {
    return this.node.address;
  }

  /** One agent run, now; runs never overlap (a tick waits for the one before). */
  async run(options: RunOptions = {}): Promise<AgentRun> {
    // Re-checked after every wait: of two callers waiting, only the first may start.
    while (this.current) await this.current.catch(() => {});
    const began = Date.now();
    this.current = this.agent(options).then((r) => ({ ...r, host: this.name, began, ended: Date.now() }));
    try {
      const run = await this.current;
      this.runs.push(run);
      return run;
    } finally {
      this.current = undefined;
    }
  }

  /** Resolves once no run is in flight. */
  async settle(): Promise<void> {
    while (this.current) await this.current.catch(() => {});
  }

  /** Reports waiting in the agent's outbox (the directory was unreachable when they were made). */
  outbox(): string[] {
    try {
      return readdirSync(path.join(this.stateDir, "agent", "outbox")).filter((f) => f.endsWith(".json"));
    } catch {
      return [];
    }
  }

  /** Replace the customer's nginx snippet: a server on this host's address answering `body`. */
  writeSite(body: string, extra = ""): void {
    mkdirSync(path.join(this.localDir, "nginx"), { recursive: true });
    writeFileSync(path.join(this.localDir, "nginx", "site.conf"), `server {\n    listen ${this.address}:80;\n    location / { return 200 "${this.name} ${body}\\n"; }\n}\n${extra}`);
  }

  protected manageArgs(): string[] {
    return ["manage", "--once", "--json", "--directory", this.directoryUrl, "--token-file", this.tokenFile, "--ca", this.caFile, "--name", this.name, "--state", this.stateDir, "--local", this.localDir];
  }
}

/** A host supervised by s6 (as on every machine without systemd as PID 1): its agent runs in its namespace. */
export class S6Host extends FleetHost {
  protected agent(options: RunOptions): Promise<Omit<AgentRun, "host" | "began" | "ended">> {
    // `ip netns exec` execs the command: the child's PID is the agent's (or its wrapper's).
    const argv = ["netns", "exec", this.node.netns, ...(options.wrapper ?? []), process.execPath, ...(options.nodeArgs ?? []), CLI, ...this.manageArgs()];
    const child = spawn("ip", argv, { env: { ...process.env, CONGRUENT_SERVICE_MANAGER: "s6", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    if (child.pid) options.onSpawn?.(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    return new Promise((resolve) => child.on("close", (code) => resolve({ exit: code, out: parseOut(stdout), stderr })));
  }

  async status(): Promise<HostStatus> {
    // s6 is driven through its scan directory: the machine's namespace is not needed to ask it.
    const r = await cli(["status", "--json", "--state", this.stateDir], { CONGRUENT_SERVICE_MANAGER: "s6" });
    if (r.code !== 0) throw new Error(`status of ${this.name}: ${r.stderr}`);
    return JSON.parse(r.stdout) as HostStatus;
  }

  async down(): Promise<void> {
    await cli(["down", "--state", this.stateDir], { CONGRUENT_SERVICE_MANAGER: "s6" });
  }
}

/**
 * A host under real systemd: PID 1 of a box booted in the host's network namespace. Its agent
 * is the unit `congruent agent install` writes; each tick starts it as its timer would
 * (`systemctl start congruent-manage.service`). A drop-in adds `--json` to its command and
 * sends its output to a file, so the suite reads each run's report.
 */
export class SystemdHost extends FleetHost {
  private readonly outFile: string;

  constructor(
    private readonly box: Box,
    name: string,
    node: Node,
    dirs: HostDirs,
  ) {
    super(name, node, dirs);
    this.outFile = path.join(dirs.work, "last-run.json");
  }

  /** Write the agent's units inside the box, and the suite's drop-in. */
  async install(): Promise<void> {
    const unitDir = "/etc/systemd/system";
    const r = await this.box.exec([process.execPath, CLI, "agent", "install", "--no-enable", "--unit-dir", unitDir, "--directory", this.directoryUrl, "--token-file", this.tokenFile, "--ca", this.caFile, "--name", this.name, "--state", this.stateDir, "--local", this.localDir]);
    if (r.code !== 0) throw new Error(`agent install in the box: ${r.stderr}`);
    await this.rewriteDropIn();
  }

  /** The unit's own command with --json, its output in a file (rewritten when the directory moves). */
  async rewriteDropIn(): Promise<void> {
    const unit = readFileSync(this.box.path("/etc/systemd/system/congruent-manage.service"), "utf8");
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.replace(/--directory \S+/, `--directory ${this.directoryUrl}`);
    const dropIn = this.box.path("/etc/systemd/system/congruent-manage.service.d");
    mkdirSync(dropIn, { recursive: true });
    writeFileSync(
      path.join(dropIn, "infra.conf"),
      ["# The infra suite reads every run's report: the unit's command with --json, its output in a file.", "[Service]", "ExecStart=", `ExecStart=${execStart} --json`, `StandardOutput=truncate:${this.outFile}`, ""].join("\n"),
    );
    const reload = await this.box.exec(["systemctl", "daemon-reload"]);
    if (reload.code !== 0) throw new Error(`daemon-reload in the box: ${reload.stderr}`);
  }

  protected async agent(options: RunOptions): Promise<Omit<AgentRun, "host" | "began" | "ended">> {
    const env = Object.entries(options.env ?? {});
    if (env.length) await this.box.exec(["systemctl", "set-environment", ...env.map(([k, v]) => `${k}=${v}`)]);
    try {
      const r = await this.box.exec(["systemctl", "start", "congruent-manage.service"]);
      const shown = (await this.box.exec(["systemctl", "show", "-p", "ExecMainStatus", "-p", "ExecMainCode", "congruent-manage.service"])).stdout;
      const main = Object.fromEntries(shown.trim().split("\n").map((l) => l.split("=") as [string, string]));
      // ExecMainCode 1 = exited (the status is its exit code), 2 = killed (the status is the signal).
      const killed = main.ExecMainCode === "2";
      const out = parseOut(readText(this.outFile));
      const journal = r.code === 0 ? "" : await this.box.journal("congruent-manage.service", 20);
      return { exit: killed ? null : Number(main.ExecMainStatus), out, stderr: `${r.stderr}${journal}` };
    } finally {
      if (env.length) await this.box.exec(["systemctl", "unset-environment", ...env.map(([k]) => k)]);
    }
  }

  /** kill -9 of the agent (the unit's main process), wherever its run is; systemd ends what it leaves. */
  async killAgent(): Promise<void> {
    await this.box.exec(["systemctl", "kill", "--kill-whom=main", "--signal=SIGKILL", "congruent-manage.service"]);
  }

  async status(): Promise<HostStatus> {
    const r = await this.box.exec([process.execPath, CLI, "status", "--json", "--state", this.stateDir]);
    if (r.code !== 0) throw new Error(`status in the box: ${r.stderr}`);
    return JSON.parse(r.stdout) as HostStatus;
  }

  async down(): Promise<void> {
    await this.box.exec([process.execPath, CLI, "down", "--state", this.stateDir]);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
