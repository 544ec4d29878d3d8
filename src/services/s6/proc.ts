import { constants, promises as fs } from "node:fs";

/**
 * True when a process has `fifo` open for reading: that is how s6 tools themselves (s6-svok,
 * s6-svscanctl) tell a live supervisor from stale files, without spawning anything.
 *
 * @example await fifoHasReader(`${scanDir}/.s6-svscan/control`)
 */
export async function fifoHasReader(fifo: string): Promise<boolean> {
  try {
    const handle = await fs.open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    await handle.close();
    return true;
  } catch {
    return false; // ENXIO: nobody reads; ENOENT: never created
  }
}

/** The argv of a live process; [] for a zombie (empty cmdline) or a vanished pid. */
export async function processArgv(pid: number): Promise<string[]> {
  try {
    const raw = await fs.readFile(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").filter((word) => word !== "");
  } catch {
    return [];
  }
}

/** Alive and not a zombie: a detached s6-svscan whose parent died is never reaped here. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Every process's parent, read once from /proc (only on the slow paths: start and down). */
async function parents(): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  for (const entry of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await fs.readFile(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      result.set(Number(entry), ppid);
    } catch {
      // exited while we were reading
    }
  }
  return result;
}

/** `pid` and all its descendants: the supervision tree under s6-svscan. */
export async function processTree(pid: number): Promise<number[]> {
  const byParent = new Map<number, number[]>();
  for (const [child, parent] of await parents()) byParent.set(parent, [...(byParent.get(parent) ?? []), child]);
  const tree: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    tree.push(next);
    queue.push(...(byParent.get(next) ?? []));
  }
  return tree;
}

/** Pids of live processes whose argv is exactly `argv` (a running s6-svscan for our scan dir). */
export async function findProcesses(argv: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await parents()).keys()) {
    const words = await processArgv(pid);
    if (words.length === argv.length && words.every((word, i) => word === argv[i])) found.push(pid);
  }
  return found;
}

/**
 * Poll `check` every `intervalMs` until it returns true or `timeoutMs` passes.
 *
 * @example if (!(await waitFor(() => fifoHasReader(f), 5000))) throw ...
 */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
