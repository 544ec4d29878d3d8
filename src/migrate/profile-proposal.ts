import path from "node:path";
import type { Inventory, PackageFact } from "./types.js";

/** What `migrate plan` proposes for one user whose home uses the system's programs or libraries. */
export interface ProfileProposal {
  user: string;
  home: string;
  /** What goes into the profile: each system program or library the home's software uses. */
  contents: { provides: string; package: string | null; for: string[] }[];
  /** How the user installs it once a default.nix names those packages. */
  install: string;
}

/** The Gentoo package a program or library of the base system comes from, by its file name. */
const OWNERS: { file: RegExp; name: string; slot?: (m: RegExpExecArray) => string }[] = [
  { file: /^python(\d+\.\d+)$/, name: "python", slot: (m) => m[1]! },
  { file: /^python\d*$/, name: "python" },
  { file: /^(ld-linux.*\.so.*|libc\.so.*|libm\.so.*|libpthread\.so.*)$/, name: "glibc" },
  { file: /^perl[\d.]*$/, name: "perl" },
  { file: /^ruby[\d.]*$/, name: "ruby" },
  { file: /^(node|nodejs)$/, name: "nodejs" },
  { file: /^php[\d.]*$/, name: "php" },
];

/**
 * A user profile for each home whose software links the system's interpreters or libraries
 * (the `home-links-system` blockers): what goes in it, named by the legacy package that
 * provides it today, so the home keeps working when the system's copy changes.
 *
 * @example proposeProfiles(inventory) // [{ user: "alice", contents: [{ provides: "/usr/bin/python3.11", package: "dev-lang/python-3.11.5", for: ["/home/alice/venv"] }], … }]
 */
export function proposeProfiles(inv: Inventory): ProfileProposal[] {
  return inv.facts.users
    .filter((u) => u.software.length > 0)
    .map((u) => {
      const byTarget = new Map<string, string[]>();
      for (const s of u.software) byTarget.set(s.linksTo, [...(byTarget.get(s.linksTo) ?? []), s.path]);
      return {
        user: u.name,
        home: u.home,
        contents: [...byTarget].sort(([a], [b]) => a.localeCompare(b)).map(([provides, users]) => ({ provides, package: owner(provides, inv.facts.packages)?.atom ?? null, for: users.sort() })),
        install: `congruent profile switch --store nix --user ${u.name} --file ${path.posix.join(u.home, "default.nix")}`,
      };
    });
}

function owner(file: string, packages: readonly PackageFact[]): PackageFact | undefined {
  const base = path.posix.basename(file);
  for (const o of OWNERS) {
    const m = o.file.exec(base);
    if (!m) continue;
    const slot = o.slot?.(m);
    return packages.find((p) => p.name === o.name && (slot === undefined || p.slot === slot)) ?? packages.find((p) => p.name === o.name);
  }
  return undefined;
}
