import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs, openSync, closeSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../../errors.js";
import { s6 } from "./exec.js";
import { fifoHasReader, findProcesses, isAlive, processArgv, processTree, waitFor } from "./proc.js";

// A fixed, small environment: services must not inherit whatever the first caller happened to have.
const SVSCAN_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
const START_TIMEOUT_MS = 5_000;
const EXIT_TIMEOUT_MS = 10_000;

/**
 * The one s6-svscan process of a state directory, found through its pid file.
 *
 * @example const pid = await new Svscan(scanDir, pidFile, logFile).ensure()
 */
export class Svscan {
  constructor(
    readonly scanDir: string,
    private readonly pidFile: string,
    private readonly logFile: string,
  ) {}

  /**
   * The pid of our live s6-svscan, or null. Two reads, no spawn: the pid file, then that
   * pid's cmdline, which must be `s6-svscan <scanDir>` (a recycled pid or zombie fails it).
   */
  async pid(): Promise<number | null> {
    const pid = Number((await fs.readFile(this.pidFile, "utf8").catch(() => "")).trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    const argv = await processArgv(pid);
    return argv.length === 2 && path.basename(argv[0] ?? "") === "s6-svscan" && argv[1] === this.scanDir ? pid : null;
  }

  /** Start s6-svscan unless it runs; recover a stale pid file and adopt an unrecorded instance. */
  async ensure(): Promise<number> {
    const known = await this.pid();
    if (known !== null) return known;
    await fs.mkdir(this.scanDir, { recursive: true });
    const control = path.join(this.scanDir, ".s6-svscan", "control");
    // An s6-svscan runs on our dir without our pid file (a crash between spawn and write).
    const adopted = await this.adopt(control);
    if (adopted !== null) return adopted;
    await fs.mkdir(path.dirname(this.logFile), { recursive: true });
    const log = openSync(this.logFile, "a");
    let child;
    try {
      child = spawn("s6-svscan", [this.scanDir], { detached: true, stdio: ["ignore", log, log], env: SVSCAN_ENV });
    } finally {
      closeSync(log);
    }
    let failure: string | null = null;
    child.once("error", (error) => (failure = error.message));
    child.once("exit", (code) => (failure ??= `exited with code ${code}`));
    child.unref();
    const ready = await waitFor(async () => failure !== null || (await fifoHasReader(control)), START_TIMEOUT_MS);
    if (failure !== null || !ready || child.pid === undefined) {
      // Another process won the race to start it: s6-svscan's lock let only one through.
      const winner = await this.adopt(control);
      if (winner !== null) return winner;
      const why = failure ?? `not listening on ${control} after ${START_TIMEOUT_MS} ms`;
      const hint = /ENOENT/.test(why) ? ` (install Debian's "s6" package)` : ` (see ${this.logFile})`;
      throw new CongruentError("E_SERVICE", `s6-svscan for ${this.scanDir} did not start: ${why}${hint}`);
    }
    return this.record(child.pid);
  }

  /** Ask s6-svscan to rescan (`-a`), and with `prune` to drop supervisors of removed dirs (`-n`). */
  async rescan(prune = false): Promise<void> {
    await s6("s6-svscanctl", [prune ? "-an" : "-a", this.scanDir]);
  }

  /**
   * Stop s6-svscan with every supervisor, logger and service under it, and wait until each of
   * those processes is gone. Call it after the services are down: s6-supervise still sends
   * each service its down signal, but a clean stop is the caller's job.
   */
  async terminate(): Promise<void> {
    const pid = await this.pid();
    if (pid !== null) {
      const tree = await processTree(pid);
      await s6("s6-svscanctl", ["-t", this.scanDir]);
      const gone = async () => !(await Promise.all(tree.map(isAlive))).some(Boolean);
      if (!(await waitFor(gone, EXIT_TIMEOUT_MS, 50))) {
        const left = (await Promise.all(tree.map(async (p) => ((await isAlive(p)) ? p : null)))).filter((p) => p !== null);
        throw new CongruentError(
          "E_SERVICE",
          `s6-svscan ${pid} for ${this.scanDir} was told to exit, but after ${EXIT_TIMEOUT_MS} ms processes ${left.join(", ")} still run`,
        );
      }
    }
    await fs.rm(this.pidFile, { force: true });
  }

  private async adopt(control: string): Promise<number | null> {
    if (!(await fifoHasReader(control))) return null;
    const [pid] = await findProcesses(["s6-svscan", this.scanDir]);
    return pid === undefined ? null : this.record(pid);
  }

  private async record(pid: number): Promise<number> {
    const temp = `${this.pidFile}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
    await fs.writeFile(temp, `${pid}\n`);
    await fs.rename(temp, this.pidFile);
    return pid;
  }
}
