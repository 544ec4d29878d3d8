import type { Requirement } from "./conversion.js";
import type { Inventory } from "./types.js";

/** A path to copy from the legacy host to the new one, as it is. */
export interface CarryItem {
  path: string;
  kind: string;
  bytes: number;
  reason: string;
}

/** What the new host gets from the legacy one besides the plan's description and snippets. */
export interface CarryOver {
  /** Copied as they are (`carry-over.list`, for `rsync -a --files-from`). */
  data: CarryItem[];
  /** Created empty (`directories.list`): where the migrated configuration makes things itself. */
  directories: { path: string; reason: string }[];
  /** Applications a deployment tool keeps in line: deployed again by that tool, not copied. */
  deployments: { path: string; deployedBy: string }[];
  /** People's accounts, to create on the new host (its own /etc/passwd is never overwritten). */
  accounts: { name: string; uid: number; home: string; shell: string }[];
  /** Configuration left behind that a person should look at; never copied over the new host's own. */
  review: { path: string; reason: string }[];
}

// Files of the new host's own base system: copying the legacy host's would overwrite its accounts,
// its name, its boot and package setup. Accounts are recreated instead (`accounts`).
const NEW_HOSTS_OWN = /^\/etc\/(passwd|group|shadow|gshadow)-?$|^\/etc\/(hostname|machine-id|fstab|hosts|resolv\.conf|mtab|adjtime|localtime|timezone|issue|os-release|gentoo-release)$|^\/etc\/(init\.d|conf\.d|runlevels|portage|env\.d|local\.d|ld\.so\.conf\.d|pam\.d|security|sysctl\.d|modprobe\.d|udev)\//;

// The legacy configuration of the programs the platform runs itself: what plan migrated is in the
// snippets; the rest (pg_hba.conf, …) is the platform's to write on the new host: reviewed, never copied.
const COMPONENT_CONFIG = /^\/etc\/(nginx|redis|postgresql-\d+)\/|^\/etc\/redis\.conf$/;

/** True when `p` is `dir` or below it. */
const under = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

/**
 * Sort the divergent part of an assessed host into what is copied, what is created, what is
 * deployed again, which accounts are made, and what a person reviews; and add what the migrated
 * configurations need (certificates, served content, cache directories) unless it is already
 * carried. Nothing the new host's base system owns is ever in the copy list.
 *
 * @example const carry = carryOver(inventory, conversions.flatMap((c) => c.requires ?? []));
 */
export function carryOver(inv: Inventory, requires: Requirement[]): CarryOver {
  const data: CarryItem[] = [];
  const review: CarryOver["review"] = [];
  const deployments: CarryOver["deployments"] = [];
  const apps = new Map(inv.facts.apps.map((a) => [a.path, a]));
  for (const i of inv.items) {
    if (i.kind === "app" && i.class === "convergent") {
      deployments.push({ path: i.id, deployedBy: apps.get(i.id)?.deployedBy ?? "its deployment tool" });
      continue;
    }
    if (i.class !== "divergent") continue;
    if (i.kind !== "config") {
      data.push({ path: i.id, kind: i.kind, bytes: i.bytes ?? 0, reason: i.reason });
      continue;
    }
    const config = inv.facts.configs.find((c) => c.path === i.id);
    if (NEW_HOSTS_OWN.test(i.id)) continue; // accounts, name, init scripts: the new host has its own
    if ((config?.state === "unmanaged" && !COMPONENT_CONFIG.test(i.id)) || /host identity/.test(i.reason)) data.push({ path: i.id, kind: "config", bytes: 0, reason: i.reason });
    else review.push({ path: i.id, reason: `${i.reason}: not copied over the new host's own file; bring the change over by hand if it is still needed` });
  }
  const directories: CarryOver["directories"] = [];
  for (const r of requires) {
    if (r.kind === "create") {
      if (!directories.some((d) => d.path === r.path)) directories.push({ path: r.path, reason: `${r.reason} (${r.from})` });
    } else if (!data.some((d) => under(r.path, d.path)) && !deployments.some((d) => under(r.path, d.path)) && !NEW_HOSTS_OWN.test(r.path)) {
      data.push({ path: r.path, kind: "config-needs", bytes: r.bytes, reason: `${r.reason} (${r.from})` });
    }
  }
  const accounts = inv.facts.users.map((u) => ({ name: u.name, uid: u.uid, home: u.home, shell: u.shell }));
  return { data, directories, deployments, accounts, review };
}
