import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { CongruentError } from "../../errors.js";

const ids = new Map<string, { uid: number; gid: number }>();

/** uid and gid of a system user (Debian's packages create postgres, redis, memcache). */
export function userIds(user: string): { uid: number; gid: number } {
  const hit = ids.get(user);
  if (hit) return hit;
  const local = fromPasswd(user);
  if (local) {
    ids.set(user, local);
    return local;
  }
  const uid = spawnSync("id", ["-u", user], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", user], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) throw new CongruentError("E_PROGRAM_MISSING", `system user "${user}" does not exist; it is created by the Debian package of its server`);
  const found = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  ids.set(user, found);
  return found;
}

/** argv run as `user` when we are root (servers refuse root, or must not have it); unchanged otherwise. */
export function asUser(user: string, argv: string[]): string[] {
  return process.getuid?.() === 0 ? ["runuser", "-u", user, "--", ...argv] : argv;
}

/** System users live in /etc/passwd; reading it saves two spawns (other NSS sources fall back to `id`). */
function fromPasswd(user: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${user}:`));
    const [, , uid, gid] = line?.split(":") ?? [];
    return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
  } catch {
    return undefined;
  }
}
