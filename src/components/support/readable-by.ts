import { readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import path from "node:path";

/**
 * Someone who may have written a file in an integration point: a user (with the groups
 * /etc/passwd and /etc/group give it) or, where a file or directory is group-writable, any
 * member of a group. What the build reads for them (as root) must be what they could read.
 */
export interface Principal {
  /** -1 for "any member of these groups". */
  uid: number;
  gids: number[];
  /** For messages: `user 1000`, `alice`, `group www-data`. */
  name: string;
}

interface Account {
  name: string;
  uid: number;
  gid: number;
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n");
  } catch {
    return [];
  }
}

/** Users and groups from the local files; other NSS sources give no groups (so: fewer rights, never more). */
function accounts(): { users: Map<number, Account>; groups: { name: string; gid: number; members: string[] }[] } {
  const users = new Map<number, Account>();
  for (const line of readLines("/etc/passwd")) {
    const [name, , uid, gid] = line.split(":");
    if (name && uid && gid) users.set(Number(uid), { name, uid: Number(uid), gid: Number(gid) });
  }
  const groups = readLines("/etc/group").flatMap((line) => {
    const [name, , gid, members] = line.split(":");
    return name && gid ? [{ name, gid: Number(gid), members: (members ?? "").split(",").filter(Boolean) }] : [];
  });
  return { users, groups };
}

/**
 * Who may have written `file` (or any file in directory `dir`): its owner, and its group when
 * the group may write it. Root among them means no restriction: root wrote it.
 *
 * @example writersOf(statSync("/etc/local/nginx")) // [{ uid: 1000, gids: [1000, 33], name: "alice" }]
 */
export function writersOf(st: Stats): Principal[] {
  const { users, groups } = accounts();
  const user = users.get(st.uid);
  const gids = new Set<number>(user ? [user.gid] : []);
  if (user) for (const g of groups) if (g.members.includes(user.name)) gids.add(g.gid);
  const out: Principal[] = [{ uid: st.uid, gids: [...gids], name: user?.name ?? `user ${st.uid}` }];
  if (st.mode & 0o020) out.push({ uid: -1, gids: [st.gid], name: `group ${groups.find((g) => g.gid === st.gid)?.name ?? st.gid}` });
  return out;
}

/** The permission bits that apply to `p` for a file with these stats. */
function bitsFor(p: Principal, st: Stats): number {
  if (st.uid === p.uid) return (st.mode >> 6) & 7;
  if (p.gids.includes(st.gid)) return (st.mode >> 3) & 7;
  return st.mode & 7;
}

/** Every directory from `/` down to the one holding `file`. */
const ancestors = (file: string): string[] => {
  const out: string[] = [];
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    out.unshift(d);
    if (d === path.dirname(d)) return out;
  }
};

/**
 * Could `p` open `file` for reading, by the permission bits (every directory on the way
 * searchable, the file readable), through the path as written and through its target?
 * POSIX ACLs are not consulted: a file readable only through an ACL entry counts as unreadable.
 * `searchable` says whether `p` could at least see whether the file exists.
 *
 * @example canRead({ uid: 1000, gids: [1000], name: "alice" }, "/etc/shadow") // { readable: false, searchable: true }
 */
export function canRead(p: Principal, file: string): { readable: boolean; searchable: boolean } {
  if (p.uid === 0) return { readable: true, searchable: true };
  const search = (dirs: string[]) => dirs.every((d) => (bitsFor(p, statSync(d)) & 1) !== 0);
  try {
    if (!search(ancestors(file))) return { readable: false, searchable: false };
  } catch {
    return { readable: false, searchable: false };
  }
  try {
    const real = realpathSync(file);
    return { readable: search(ancestors(real)) && (bitsFor(p, statSync(real)) & 4) !== 0, searchable: true };
  } catch {
    return { readable: false, searchable: true };
  }
}
