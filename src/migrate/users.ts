import { openSync, readSync, closeSync } from "node:fs";
import path from "node:path";
import type { LegacyRoot } from "./legacy-root.js";
import type { HomeSoftwareFact, Problem, UserFact } from "./types.js";

// Gentoo's UID_MIN/UID_MAX (login.defs): accounts people log in with; 65534 is nobody.
const UID_MIN = 1000;
const UID_MAX = 60000;

/**
 * People's accounts from /etc/passwd, the size of each home, and software in it that
 * depends on the system's libraries: a virtualenv built on the system python, a binary in
 * ~/bin loaded by the system's dynamic linker. Those break when the system python or libc
 * changes, so they must move into a user profile before the cut-over.
 */
export function readUsers(root: LegacyRoot): { users: UserFact[]; problems: Problem[] } {
  const users: UserFact[] = [];
  const problems: Problem[] = [];
  const text = root.read("/etc/passwd");
  if (text === undefined) return { users, problems: [{ path: "/etc/passwd", message: "unreadable or missing: no users assessed" }] };
  text.split("\n").forEach((line, i) => {
    if (!line.trim() || line.startsWith("#")) return;
    const f = line.split(":");
    if (f.length !== 7 || !/^\d+$/.test(f[2]!)) {
      problems.push({ path: "/etc/passwd", line: i + 1, message: "not a passwd entry (7 fields, numeric uid)" });
      return;
    }
    const uid = Number(f[2]);
    if (uid < UID_MIN || uid >= UID_MAX) return;
    const home = f[5]!;
    const usage = root.isDir(home) ? root.usage(home) : { bytes: 0 };
    users.push({ name: f[0]!, uid, home, shell: f[6]!, homeBytes: usage.bytes, software: root.isDir(home) ? homeSoftware(root, home) : [] });
  });
  return { users, problems };
}

/** Virtualenvs (pyvenv.cfg) up to four levels down, and dynamically linked ELF files in bin dirs. */
function homeSoftware(root: LegacyRoot, home: string): HomeSoftwareFact[] {
  const found: HomeSoftwareFact[] = [];
  const walk = (dir: string, depth: number) => {
    const entries = root.list(dir);
    const cfg = entries.find((e) => e.name === "pyvenv.cfg" && e.isFile());
    if (cfg) {
      const text = root.read(`${dir}/pyvenv.cfg`) ?? "";
      const base = /^\s*home\s*=\s*(.+?)\s*$/m.exec(text)?.[1];
      const version = /^\s*version(?:_info)?\s*=\s*(.+?)\s*$/m.exec(text)?.[1];
      // A virtualenv on a python outside the system (pyenv in the home, a store path) is self-contained.
      const mm = version?.match(/^(\d+\.\d+)/)?.[1] ?? "";
      if (base && isSystemPath(base)) found.push({ path: dir, kind: "virtualenv", linksTo: `${base}/python${mm}` });
      return;
    }
    for (const e of entries) {
      const p = path.posix.join(dir, e.name);
      if (e.isDirectory() && depth < 4 && e.name !== "node_modules" && e.name !== ".cache") walk(p, depth + 1);
      else if (e.isFile() && path.posix.basename(dir) === "bin") {
        const interp = elfInterpreter(root.real(p));
        if (interp && isSystemPath(interp)) found.push({ path: p, kind: "elf", linksTo: interp });
      }
    }
  };
  walk(home, 0);
  return found;
}

const isSystemPath = (p: string) => /^\/(usr|lib|lib64|bin)\//.test(p);

/** PT_INTERP of a 64-bit little-endian ELF file (the dynamic linker it needs), if any. */
function elfInterpreter(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n < 64 || head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return undefined;
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (at + 56 > n) break;
      if (head.readUInt32LE(at) !== 3) continue; // PT_INTERP
      const off = Number(head.readBigUInt64LE(at + 8));
      const size = Number(head.readBigUInt64LE(at + 32));
      const buf = Buffer.alloc(size);
      readSync(fd, buf, 0, size, off);
      return buf.toString("latin1").replace(/\0.*$/s, "");
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
