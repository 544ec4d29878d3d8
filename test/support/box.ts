/**
 * A real systemd as PID 1, for tests: a `systemd-nspawn` container ("box") booted from the
 * machine's own root, with its writes on a tmpfs (`--volatile=overlay`), loopback only
 * (`--private-network`), Debian's own nginx/postgresql/redis/memcached units masked, and the
 * directories a test names bound in at the same path. It is stopped by the PIDs it started and
 * leaves nothing behind (its cgroup directories are removed). Boot ≈ 0.4 s: one box per suite.
 *
 * @example
 *   const box = await Box.boot({ binds: [checkout] });
 *   const work = box.tempDir("suite-");                  // seen at the same path inside and out
 *   const r = await box.exec(["systemctl", "is-active", "dbus.service"]);
 *   // r = { code: 0, stdout: "active\n", stderr: "" }
 *   console.log(await box.journal("congruent-nginx@var-lib-congruent.service"));
 *   await box.shutdown();
 *
 * Facts this relies on (tried here): nspawn refuses `-D /`, so `/` is bind-mounted onto an empty
 * directory in a private mount namespace; the nspawn process moves into cgroups of its own first
 * (the host's layout is hybrid), or two boxes collide in the cgroup root; `systemctl` from outside
 * cannot reach the box, so commands run inside through `nsenter -t PID1 -a`; PIDs the box reports
 * are its own. Never bind the host's /dev/null as a console (that chowns it on the host).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync, closeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Why a box cannot boot here, or undefined when it can (root, systemd-nspawn, nsenter, unshare). */
export const boxUnavailable: string | undefined = (() => {
  if (process.getuid?.() !== 0) return "a systemd-nspawn box needs root";
  for (const program of ["systemd-nspawn", "nsenter", "unshare"]) {
    if (spawnSync("sh", ["-c", `command -v ${program}`]).status !== 0) {
      return `${program} is not installed (apt-get install --no-install-recommends systemd-container; scripts/install-deps.sh does)`;
    }
  }
  if (!existsSync("/sys/fs/cgroup/systemd") && !existsSync("/sys/fs/cgroup/cgroup.procs")) return "no cgroup hierarchy at /sys/fs/cgroup";
  return undefined;
})();

/** Units of the machine's image that must not start in a box: servers the tests run themselves, and timers. */
const MASKED = [
  "nginx.service", "postgresql.service", "redis-server.service", "memcached.service",
  "apt-daily.timer", "apt-daily-upgrade.timer", "man-db.timer", "dpkg-db-backup.timer", "e2scrub_all.timer", "fstrim.timer",
];

export interface BoxOptions {
  /** Host directories bound read-write at the same path inside (the checkout, fixtures). */
  binds?: string[];
  /** Host paths bound read-only at the same path inside. */
  bindsReadOnly?: string[];
  /** More units to mask at boot. */
  mask?: string[];
  /** A network namespace to boot in (`/run/netns/NAME`, e.g. a fleet's host); default a private one, loopback only. */
  networkNamespace?: string;
  /** Boot and poweroff bound (default 60 s each). */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  /** Working directory inside (default: that of the box's PID 1, /; nsenter's --wd would resolve it outside the box's root). */
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/** A process started inside the box and still running: wait for it or kill it. */
export interface Spawned {
  /** Resolves when it ended (its output collected). */
  done: Promise<ExecResult>;
  /** SIGKILL (or `signal`) to the process inside, by its host PID. */
  kill(signal?: NodeJS.Signals): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Box {
  /** Boot time in milliseconds, from spawn to `systemctl is-system-running --wait`. */
  bootMs = 0;

  private constructor(
    /** The nspawn process (host PID), the one we started and stop. */
    readonly nspawnPid: number,
    /** The box's PID 1 (systemd) as the host sees it. */
    readonly pid1: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly cgroups: string[],
    private readonly timeoutMs: number,
  ) {}

  /** Boot a box; rejects (with the box's console output) when it does not come up. */
  static async boot(options: BoxOptions = {}): Promise<Box> {
    if (boxUnavailable) throw new Error(`cannot boot a systemd box: ${boxUnavailable}`);
    const started = Date.now();
    const timeoutMs = options.timeoutMs ?? 60_000;
    const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-box-"));
    const root = path.join(dir, "root");
    const work = path.join(dir, "work");
    mkdirSync(root);
    mkdirSync(work);
    // Services in the box run as their own users (postgres, redis, nobody): they must get through.
    chmodSync(dir, 0o755);
    chmodSync(work, 0o755);
    // Debian's tmpfiles rule `D /tmp` empties /tmp at boot: over the overlay it could not reach
    // the host's files, but it would reach what is bound in under /tmp. An empty file masks it.
    const emptyRule = path.join(dir, "tmp.conf");
    writeFileSync(emptyRule, "");
    const name = path.basename(dir);
    const cgroups = ["systemd", "unified"].map((h) => path.join("/sys/fs/cgroup", h, name)).filter((c) => existsSync(path.dirname(c)));
    const args = [
      "-q", "-D", root, "--volatile=overlay", options.networkNamespace ? `--network-namespace-path=${options.networkNamespace}` : "--private-network",
      "--register=no", "--keep-unit", "--console=pipe",
      `--bind=${work}`, `--bind-ro=${emptyRule}:/etc/tmpfiles.d/tmp.conf`,
      ...(options.binds ?? []).map((b) => `--bind=${b}`),
      ...(options.bindsReadOnly ?? []).map((b) => `--bind-ro=${b}`),
      "-b", "--", ...[...MASKED, ...(options.mask ?? [])].map((u) => `systemd.mask=${u}`),
    ];
    const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    // One process all along: unshare execs sh, which joins its cgroups and execs nspawn.
    const script = [
      `mount --bind / ${q(root)}`,
      ...cgroups.map((c) => `mkdir ${q(c)} && echo $$ > ${q(`${c}/cgroup.procs`)}`),
      `exec systemd-nspawn ${args.map(q).join(" ")}`,
    ].join(" && ");
    const console = openSync(path.join(dir, "console.log"), "a");
    const child = spawn("unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script], { stdio: ["ignore", console, console] });
    closeSync(console);
    const consoleText = () => readFileSync(path.join(dir, "console.log"), "utf8").slice(-3000);
    const fail = async (why: string) => {
      if (child.exitCode === null) child.kill("SIGKILL");
      await waitExit(child, 10_000);
      removeCgroups(cgroups);
      rmSync(dir, { recursive: true, force: true });
      return new Error(`systemd box did not boot: ${why}\n--- console ---\n${consoleText()}`);
    };
    const deadline = Date.now() + timeoutMs;
    let pid1: number | undefined;
    while (pid1 === undefined) {
      if (child.exitCode !== null) throw await fail(`nspawn exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw await fail("no PID 1 appeared");
      pid1 = containerInit(child.pid!);
      if (pid1 === undefined) await sleep(20);
    }
    // PID 1 is nspawn's inner child until it execs systemd; the bus socket comes a moment later.
    while (readText(`/proc/${pid1}/comm`).trim() !== "systemd" || !existsSync(`/proc/${pid1}/root/run/systemd/private`)) {
      if (child.exitCode !== null) throw await fail(`nspawn exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw await fail("systemd did not start in the box");
      await sleep(10);
    }
    const box = new Box(child.pid!, pid1, child, dir, cgroups, timeoutMs);
    // Should the test process end without shutdown() (a hook that timed out, a worker torn
    // down), the box must not outlive it: SIGKILL to its PID 1 ends every process in it.
    const reap = () => {
      if (child.exitCode === null && child.signalCode === null) killQuietly(pid1, "SIGKILL");
    };
    process.once("exit", reap);
    void child.once("exit", () => process.removeListener("exit", reap));
    // `--wait` returns once boot finished: "running", or "degraded" when some unit failed.
    const state = await box.exec(["systemctl", "is-system-running", "--wait"], { timeoutMs: Math.max(1000, deadline - Date.now()) });
    if (!/^(running|degraded)/.test(state.stdout)) {
      const error = new Error(`systemd box did not finish booting: ${state.stdout}${state.stderr}\n--- console ---\n${consoleText()}`);
      await box.shutdown();
      throw error;
    }
    box.bootMs = Date.now() - started;
    return box;
  }

  /** A new directory bound into the box, at the same path inside and out; searchable by every user. */
  tempDir(prefix = "t-"): string {
    const dir = mkdtempSync(path.join(this.dir, "work", prefix));
    chmodSync(dir, 0o755);
    return dir;
  }

  /** Where this process reads a path of the box's own file system (its overlay, e.g. /var/lib). */
  path(inside: string): string {
    return path.join(`/proc/${this.pid1}/root`, inside);
  }

  /** Run `argv` inside the box (all its namespaces), with this process's environment plus `env`. */
  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const spawned = this.spawn(argv, options);
    if (options.timeoutMs === undefined) return spawned.done;
    const timer = setTimeout(() => spawned.kill(), options.timeoutMs);
    return spawned.done.finally(() => clearTimeout(timer));
  }

  /** Start `argv` inside the box and return at once; see Spawned. */
  spawn(argv: string[], options: ExecOptions = {}): Spawned {
    const child = spawn("nsenter", ["-t", String(this.pid1), "-a", "--", ...(options.cwd ? ["/bin/sh", "-c", 'cd "$0" && exec "$@"', options.cwd] : []), ...argv], { env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    // nsenter may be gone before it read its input (it failed, or the box is stopping).
    child.stdin!.on("error", () => {});
    child.stdin!.end(options.input ?? "");
    const done = new Promise<ExecResult>((resolve) => {
      child.on("error", (error) => resolve({ code: -1, stdout, stderr: stderr + error.message }));
      child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
    });
    return {
      done,
      kill: (signal = "SIGKILL") => {
        // nsenter forks to enter the PID namespace: the command is nsenter's child. nsenter
        // itself must live to reap it (a zombie in the box would hold up its poweroff).
        const inner = children(child.pid!);
        for (const pid of inner) killQuietly(pid, signal);
        if (inner.length === 0) killQuietly(child.pid!, signal);
      },
    };
  }

  /** The journal inside the box, as `journalctl -o cat` shows it (one unit's, or everything). */
  async journal(unit?: string, lines = 200): Promise<string> {
    const r = await this.exec(["journalctl", "--no-pager", "-o", "cat", "-n", String(lines), ...(unit ? ["-u", unit] : [])]);
    return r.stdout;
  }

  /**
   * Power the box off (SIGTERM to nspawn), SIGKILL if it takes longer than the timeout, then
   * remove its cgroups and directories (the bound work directory with them). Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      killQuietly(this.nspawnPid, "SIGTERM");
      if (!(await waitExit(this.child, this.timeoutMs))) {
        // SIGKILL to a namespace's PID 1 ends every process in it; then nspawn exits too.
        killQuietly(this.pid1, "SIGKILL");
        killQuietly(this.nspawnPid, "SIGKILL");
        await waitExit(this.child, 10_000);
      }
    }
    // A box whose nspawn is gone must not live on as an orphan (it is ours: same PID 1 we found).
    for (let i = 0; i < 100 && existsSync(`/proc/${this.pid1}/root`) && readText(`/proc/${this.pid1}/comm`).trim() === "systemd"; i++) {
      if (i === 0) killQuietly(this.pid1, "SIGKILL");
      await sleep(20);
    }
    removeCgroups(this.cgroups);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The child of the nspawn process that is PID 1 of its namespace (its NSpid line ends in 1). */
function containerInit(nspawn: number): number | undefined {
  for (const pid of children(nspawn)) {
    const status = readText(`/proc/${pid}/status`);
    if (/^NSpid:.*\s1$/m.test(status)) return pid;
  }
  return undefined;
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirQuietly(`/proc/${pid}/task`)) {
    for (const c of readText(`/proc/${pid}/task/${task}/children`).trim().split(/\s+/)) if (c) out.push(Number(c));
  }
  return out;
}

/** rmdir depth first: a cgroup directory goes once it has no children and no processes. */
function removeCgroups(cgroups: string[]): void {
  const remove = (dir: string) => {
    for (const entry of readdirQuietly(dir, true)) remove(path.join(dir, entry));
    try {
      rmdirSync(dir);
    } catch {
      // already gone, or still busy for a moment (retried by the loop below)
    }
  };
  for (const c of cgroups) {
    for (let i = 0; i < 50 && existsSync(c); i++) {
      remove(c);
      if (existsSync(c)) spawnSync("sleep", ["0.1"]);
    }
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => (clearTimeout(timer), resolve(true)));
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function readdirQuietly(dir: string, directoriesOnly = false): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => !directoriesOnly || e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}
