import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";

/**
 * Views of a host's file system, composed in a mount namespace of their own (Linux overlayfs and
 * bind mounts, as root), so a program run there (chroot) sees another host's files at their own
 * paths while nothing below the real / or the legacy tree is ever written: every writable part is
 * an overlay whose upper layer is a scratch directory.
 *
 * - the **legacy view**: the legacy host's tree (its /etc, /var, /srv, /home, …) with this host's
 *   programs (/usr and its libraries) underneath, for running the legacy configuration with the
 *   local binaries;
 * - the **new-host view**: this host as it is, plus exactly what the plan carries over (copied
 *   directories as overlays of the legacy ones, files bound read-only, directories created
 *   empty): the host as it will be after the cut-over.
 */
export interface View {
  /** Where the composed root is mounted (a directory under the work directory). */
  root: string;
  /** Shell commands that compose it, run inside a fresh mount namespace. */
  script: string[];
}

/** A POSIX shell word. */
export const sh = (word: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

// The kernel's file systems and this host's device nodes are shared; /proc is mounted fresh.
const KERNEL = new Set(["proc", "sys", "dev"]);
// The programs and libraries the local binaries need.
const PROGRAMS = new Set(["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"]);

/** True when sandboxes can be made here: root, with unshare(1) and overlayfs. */
export function canSandbox(): { ok: true } | { ok: false; why: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: "needs root (mount and network namespaces)" };
  if (spawnSync("unshare", ["--version"]).status !== 0) return { ok: false, why: "unshare(1) is missing (Debian: util-linux)" };
  try {
    if (!readFileSync("/proc/filesystems", "utf8").includes("overlay")) return { ok: false, why: "the kernel has no overlayfs" };
  } catch {
    return { ok: false, why: "cannot read /proc/filesystems" };
  }
  return { ok: true };
}

class Composer {
  readonly script: string[] = ["set -e", "mount --make-rprivate /"];
  private n = 0;
  constructor(private readonly work: string, readonly root: string) {
    mkdirSync(root, { recursive: true });
    this.script.push(`mount -t tmpfs -o mode=0755 congruent-view ${sh(root)}`);
  }

  /** An overlay at `target` of `lowers` (top first) with a fresh upper layer; returns the upper dir. */
  overlay(target: string, lowers: string[]): string {
    const id = String(this.n++);
    const upper = path.join(this.work, "upper", id);
    const workdir = path.join(this.work, "overlay-work", id);
    mkdirSync(upper, { recursive: true });
    mkdirSync(workdir, { recursive: true });
    // overlayfs separates lower layers with ':' and options with ','; escape both in paths.
    const esc = (p: string) => p.replace(/([\\:,])/g, "\\$1");
    this.script.push(`mkdir -p ${sh(target)}`, `mount -t overlay overlay -o ${sh(`lowerdir=${lowers.map(esc).join(":")},upperdir=${esc(upper)},workdir=${esc(workdir)}`)} ${sh(target)}`);
    return upper;
  }

  rbind(source: string, target: string): void {
    this.script.push(`mkdir -p ${sh(target)}`, `mount --rbind ${sh(source)} ${sh(target)}`);
  }

  /** The host's mounts below `top` again inside the overlay at `target` (overlayfs does not show them). */
  submounts(top: string, target: string): void {
    for (const m of mountPoints()) {
      if (m !== top && m.startsWith(`${top}/`)) this.script.push(`[ -d ${sh(target + m.slice(top.length))} ] && mount --rbind ${sh(m)} ${sh(target + m.slice(top.length))} || true`);
    }
  }

  kernel(): void {
    this.rbind("/dev", path.join(this.root, "dev"));
    this.rbind("/sys", path.join(this.root, "sys"));
    this.script.push(`mkdir -p ${sh(path.join(this.root, "proc"))}`, `mount -t proc proc ${sh(path.join(this.root, "proc"))}`);
  }

  link(target: string, to: string): void {
    this.script.push(`mkdir -p ${sh(path.dirname(target))}`, `rm -rf ${sh(target)}`, `ln -s ${sh(to)} ${sh(target)}`);
  }
}

/** Mount points of this host, from the kernel's table. */
function mountPoints(): string[] {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[4])
      .filter((m): m is string => Boolean(m))
      .map((m) => m.replace(/\\040/g, " "));
  } catch {
    return [];
  }
}

function entries(dir: string): { name: string; link?: string; dir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, dir: e.isDirectory(), ...(e.isSymbolicLink() ? { link: readlinkSync(path.join(dir, e.name)) } : {}) }));
  } catch {
    return [];
  }
}

/**
 * The legacy host's tree at its own paths, over this host's programs: /usr (and the lib and bin
 * directories, or this host's links to them) comes from here with the legacy /usr's other files
 * visible beneath (a relative path under Gentoo's prefix /usr resolves in the legacy tree), the
 * rest from the legacy tree, each directory an overlay so the legacy tree is never written.
 */
export function legacyView(work: string, legacyRoot: string): View {
  const c = new Composer(work, path.join(work, "legacy-root"));
  const host = new Map(entries("/").map((e) => [e.name, e]));
  for (const name of PROGRAMS) {
    const e = host.get(name);
    const target = path.join(c.root, name);
    if (!e) continue;
    if (e.link !== undefined) c.link(target, e.link);
    else if (e.dir) {
      const legacy = path.join(legacyRoot, name);
      const lowers = existsSync(legacy) && lstatSync(legacy).isDirectory() ? [`/${name}`, legacy] : [`/${name}`];
      c.overlay(target, lowers);
      c.submounts(`/${name}`, target);
    }
  }
  for (const e of entries(legacyRoot)) {
    if (PROGRAMS.has(e.name) || KERNEL.has(e.name)) continue;
    const target = path.join(c.root, e.name);
    if (e.link !== undefined) c.link(target, e.link);
    else if (e.dir) c.overlay(target, [path.join(legacyRoot, e.name)]);
  }
  for (const dir of ["etc", "tmp", "run", "var"]) c.script.push(`mkdir -p ${sh(path.join(c.root, dir))}`);
  c.kernel();
  return { root: c.root, script: c.script };
}

/** What the plan carries over, as the new-host view applies it. */
export interface Carried {
  /** Host paths copied from the legacy tree (bound read-only at their own path). */
  copy: string[];
  /** Directories created empty. */
  create: string[];
}

/**
 * This host with the plan's carry-over applied: every top-level directory is this host's own
 * (an overlay, so writes vanish with the namespace), except `shared` paths (the state and plan
 * directories, the temp directory), which are this host's directories themselves; the carried
 * paths appear at their own paths (directories as overlays of the legacy ones, files bound
 * read-only, symlinks recreated), the directories to create are made. Nothing of the legacy host that the plan does not carry is visible.
 */
export function newHostView(work: string, legacyRoot: string, carried: Carried, shared: string[]): View {
  const c = new Composer(work, path.join(work, "new-root"));
  const sharedTops = new Set(shared.map((p) => path.resolve(p).split("/")[1]).filter((t): t is string => Boolean(t)));
  for (const e of entries("/")) {
    if (KERNEL.has(e.name)) continue;
    const target = path.join(c.root, e.name);
    if (e.link !== undefined) c.link(target, e.link);
    else if (!e.dir) continue;
    else if (sharedTops.has(e.name)) c.rbind(`/${e.name}`, target);
    else {
      c.overlay(target, [`/${e.name}`]);
      c.submounts(`/${e.name}`, target);
    }
  }
  c.kernel();
  const inView = (p: string) => !sharedTops.has(p.split("/")[1] ?? "");
  for (const p of [...new Set(carried.copy)].sort()) {
    if (!inView(p)) continue; // never placeholders in this host's own shared directories
    const source = path.join(legacyRoot, p);
    const target = path.join(c.root, p);
    let st;
    try {
      st = lstatSync(source);
    } catch {
      continue; // gone since the inventory: the view simply lacks it, as the new host would
    }
    if (st.isSymbolicLink()) c.link(target, readlinkSync(source));
    // A directory is an overlay of the legacy one (what runs there may write: sockets, caches),
    // a file is bound read-only; the legacy tree is written in neither case.
    else if (st.isDirectory()) c.overlay(target, [source]);
    else c.script.push(`mkdir -p ${sh(path.dirname(target))}`, `[ -e ${sh(target)} ] || : > ${sh(target)}`, `mount --bind -o ro ${sh(source)} ${sh(target)}`);
  }
  for (const d of carried.create) if (inView(d)) c.script.push(`mkdir -p ${sh(path.join(c.root, d))}`);
  return { root: c.root, script: c.script };
}

export interface SandboxOptions {
  /** A network namespace of its own: loopback only, up. */
  net?: boolean;
  /** A PID namespace: everything started inside ends when its first process does. */
  pid?: boolean;
  /** Extra setup lines after the view is composed (addresses on loopback, …). */
  setup?: string[];
}

/**
 * argv that runs `command` inside a new mount namespace (and network and PID namespaces) after
 * composing `view`. With `pid`, unshare's --kill-child makes the namespace die with its parent:
 * nothing started inside outlives the sandbox.
 *
 * @example spawn(...sandboxArgv(view, ["chroot", view.root, "nginx", "-t"], { net: true }))
 */
export function sandboxArgv(view: View | undefined, command: string[], opts: SandboxOptions = {}): string[] {
  const flags = ["--mount", ...(opts.net ? ["--net"] : []), ...(opts.pid ? ["--pid", "--fork", "--kill-child"] : ["--fork"])];
  const lines = [...(view?.script ?? ["set -e", "mount --make-rprivate /"]), ...(opts.net ? ["ip link set lo up"] : []), ...(opts.setup ?? []), `exec ${command.map(sh).join(" ")}`];
  return ["unshare", ...flags, "--", "/bin/sh", "-c", lines.join("\n")];
}
