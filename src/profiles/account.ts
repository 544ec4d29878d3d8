import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { CongruentError } from "../errors.js";

/** A user as getpwnam(3) knows it. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * The account named `name`: /etc/passwd first, then `getent passwd` (LDAP, sssd).
 *
 * @example account("alice") // { name: "alice", uid: 1000, gid: 1000, home: "/home/alice" }
 */
export function account(name: string): Account {
  const line = passwdLine(name) ?? getent(name);
  const f = line?.split(":");
  if (!f || f.length < 7 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) throw new CongruentError("E_PROFILE_INPUT", `no such user: ${name}`);
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}

/** The account this process runs as. */
export function invoker(): { name: string; uid: number } {
  return { name: os.userInfo().username, uid: process.getuid?.() ?? 0 };
}

/** Root may manage any profile; everyone else only their own. */
export function checkMayManage(target: Account): void {
  const me = invoker();
  if (me.uid === 0 || me.uid === target.uid) return;
  throw new CongruentError("E_PROFILE_DENIED", `${me.name} may change only their own profile, not ${target.name}'s (root may change any)`);
}

function passwdLine(name: string): string | undefined {
  try {
    return readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  } catch {
    return undefined;
  }
}

function getent(name: string): string | undefined {
  const r = spawnSync("getent", ["passwd", name], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
