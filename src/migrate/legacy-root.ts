import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync, type Dirent } from "node:fs";
import path from "node:path";

/**
 * A legacy host's file tree, read through its root (a copy, a mount, or `/`). Every path the
 * host's own files name (`/etc/nginx/vhosts.d/*.conf`) is resolved here, below the root, so a
 * copy of a host is never confused with the machine we run on.
 */
export class LegacyRoot {
  readonly dir: string;
  /** Host path → the same path with its symlinks resolved inside the root. */
  private readonly resolved = new Map<string, string>();

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /**
   * Real path of a host path: `/etc/passwd` → `<root>/etc/passwd`. Symlinks are resolved as
   * the host would resolve them, below the root: a copy's `/etc/nginx/sites-enabled/shop ->
   * /srv/shop/nginx.conf` must read the copy's /srv, never the /srv of the machine we run on.
   */
  real(hostPath: string): string {
    const p = path.posix.normalize("/" + hostPath);
    return this.dir === "/" ? p : path.join(this.dir, this.resolve(p, 0));
  }

  private resolve(hostPath: string, depth: number): string {
    if (hostPath === "/") return "/";
    const cached = this.resolved.get(hostPath);
    if (cached !== undefined) return cached;
    const parent = this.resolve(path.posix.dirname(hostPath), depth);
    let out = path.posix.join(parent, path.posix.basename(hostPath));
    try {
      const real = path.join(this.dir, out);
      // 40 links deep is where the kernel gives up too (ELOOP).
      if (depth < 40 && lstatSync(real).isSymbolicLink()) {
        const target = readlinkSync(real);
        out = this.resolve(path.posix.normalize(target.startsWith("/") ? target : path.posix.join(parent, target)), depth + 1);
      }
    } catch {
      // does not exist (yet): the caller's read reports it
    }
    this.resolved.set(hostPath, out);
    return out;
  }

  /**
   * The symlinks a host path goes through, as host paths, and where it ends: what must be
   * carried over together so the path still resolves on another host
   * (`/etc/letsencrypt/live/x/fullchain.pem` → `../../archive/x/fullchain1.pem`).
   */
  chain(hostPath: string): { links: string[]; target: string } {
    const links: string[] = [];
    let p = path.posix.normalize("/" + hostPath);
    for (let depth = 0; depth < 40; depth++) {
      // The first component (from the root down) that is a symlink, if any.
      const parts = p.split("/").filter(Boolean);
      let found: string | undefined;
      for (let i = 1; i <= parts.length && !found; i++) {
        const prefix = "/" + parts.slice(0, i).join("/");
        try {
          if (lstatSync(path.join(this.dir, prefix)).isSymbolicLink()) found = prefix;
        } catch {
          break;
        }
      }
      if (!found) return { links, target: p };
      links.push(found);
      const target = readlinkSync(path.join(this.dir, found));
      const resolved = target.startsWith("/") ? target : path.posix.join(path.posix.dirname(found), target);
      p = path.posix.normalize(resolved + p.slice(found.length));
    }
    return { links, target: p };
  }

  /** Text of a host file, or undefined when it does not exist or cannot be read. */
  read(hostPath: string): string | undefined {
    try {
      return readFileSync(this.real(hostPath), "utf8");
    } catch {
      return undefined;
    }
  }

  /** Entries of a host directory, empty when there is none. */
  list(hostPath: string): Dirent[] {
    try {
      return readdirSync(this.real(hostPath), { withFileTypes: true });
    } catch {
      return [];
    }
  }

  exists(hostPath: string): boolean {
    try {
      lstatSync(this.real(hostPath));
      return true;
    } catch {
      return false;
    }
  }

  isDir(hostPath: string): boolean {
    try {
      return lstatSync(this.real(hostPath)).isDirectory();
    } catch {
      return false;
    }
  }

  isFile(hostPath: string): boolean {
    try {
      return lstatSync(this.real(hostPath)).isFile();
    } catch {
      return false;
    }
  }

  /** Size in bytes of a host file (0 when it cannot be read). */
  size(hostPath: string): number {
    try {
      return lstatSync(this.real(hostPath)).size;
    } catch {
      return 0;
    }
  }

  /** MD5 of a host file as Portage records it in CONTENTS, or undefined when unreadable. */
  md5(hostPath: string): string | undefined {
    try {
      return createHash("md5").update(readFileSync(this.real(hostPath))).digest("hex");
    } catch {
      return undefined;
    }
  }

  /**
   * Files and bytes below a host directory, symlinks not followed, other filesystems included
   * (a copy has none; on a live host the data dir may be a mount and that is the point).
   */
  usage(hostPath: string): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    const walk = (real: string) => {
      let entries: Dirent[];
      try {
        entries = readdirSync(real, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(real, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) {
          files++;
          try {
            bytes += lstatSync(p).size;
          } catch {
            // vanished while walking: a live host moves on
          }
        }
      }
    };
    walk(this.real(hostPath));
    return { files, bytes };
  }

  /**
   * What below a host path (itself included, and the directories above it) a process that is
   * neither its owner nor in its group cannot read: files without o+r, directories without o+x
   * (o+rx below the top). The legacy nginx workers may read such content through their own user
   * or group; another worker user cannot. `example` names the first one, with owner and mode.
   * Given `reader` (uid, gid), only what it can read and others cannot counts.
   */
  privateTo(hostPath: string, reader?: { uid: number; gid: number }): { count: number; example?: string } {
    let count = 0;
    let example: string | undefined;
    // With a reader: only what that reader can read through its user or group (others cannot).
    const readerCan = (st: { uid: number; gid: number; mode: number }, bits: number) =>
      !reader || (st.uid === reader.uid && (st.mode & (bits << 6)) === bits << 6) || (st.gid === reader.gid && (st.mode & (bits << 3)) === bits << 3);
    const note = (host: string, st: { uid: number; gid: number; mode: number }, bits: number) => {
      if (!readerCan(st, bits)) return;
      count++;
      example ??= `${host} (uid ${st.uid}, gid ${st.gid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`;
    };
    const parts = path.posix.normalize(hostPath).split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const above = `/${parts.slice(0, i).join("/")}`;
      try {
        const st = lstatSync(this.real(above));
        if (st.isDirectory() && !(st.mode & 0o001)) note(above, st, 0o1);
      } catch {
        // not there: nothing to read
      }
    }
    const walk = (host: string, real: string) => {
      let st;
      try {
        st = lstatSync(real);
      } catch {
        return; // vanished while walking
      }
      if (st.isFile() && !(st.mode & 0o004)) note(host, st, 0o4);
      if (!st.isDirectory()) return;
      if ((st.mode & 0o005) !== 0o005) note(host, st, 0o5);
      let entries: string[];
      try {
        entries = readdirSync(real);
      } catch {
        return;
      }
      for (const e of entries) walk(path.posix.join(host, e), path.join(real, e));
    };
    walk(hostPath, this.real(hostPath));
    return { count, ...(example ? { example } : {}) };
  }

  /**
   * Expand a host path glob (`*`, `?`, `[...]` per segment, as glob(3) used by nginx and
   * PostgreSQL's include_dir) below the root; results sorted, as glob(3) sorts them.
   */
  glob(pattern: string): string[] {
    const segments = path.posix.normalize("/" + pattern).split("/").filter(Boolean);
    let found = ["/"];
    for (const segment of segments) {
      const next: string[] = [];
      const magic = /[*?[]/.test(segment);
      const re = magic ? globSegment(segment) : undefined;
      for (const base of found) {
        if (!re) {
          const p = path.posix.join(base, segment);
          if (this.exists(p)) next.push(p);
          continue;
        }
        for (const e of this.list(base)) if (!e.name.startsWith(".") && re.test(e.name)) next.push(path.posix.join(base, e.name));
      }
      found = next;
    }
    return found.sort();
  }
}

function globSegment(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += "[" + segment.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\") + "]";
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
