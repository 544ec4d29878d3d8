import { readFileSync } from "node:fs";
import path from "node:path";
import { splitPf } from "./atom.js";
import { parseContents } from "./contents.js";
import type { LegacyRoot } from "./legacy-root.js";
import type { PackageFact, Problem } from "./types.js";

/** A file a package installed, as far as hand-edit and ownership checks need it. */
export interface OwnedFile {
  atom: string;
  /** md5 for `obj` entries; undefined for symlinks. */
  md5?: string;
}

export interface VdbResult {
  packages: PackageFact[];
  /**
   * Owner of every file below the prefixes that matter for the assessment (/etc, /usr/local,
   * /opt, /var, /srv, /home). The rest of CONTENTS (mostly /usr) is counted, not kept:
   * nothing downstream asks who owns /usr/lib/libfoo.so.
   */
  owned: Map<string, OwnedFile>;
  entries: number;
  problems: Problem[];
}

export const VDB = "/var/db/pkg";
const KEPT = ["/etc/", "/usr/local/", "/opt/", "/var/", "/srv/", "/home/"];

/**
 * Read Gentoo's installed-package database (`/var/db/pkg/<category>/<PF>/`): CATEGORY, PF,
 * SLOT, USE, repository and CONTENTS of each entry. An entry that cannot be read, or a
 * malformed CONTENTS line, is reported with its path (and line) and the rest is read on.
 *
 * @example const { packages, owned } = readVdb(new LegacyRoot("/mnt/host1"));
 */
export function readVdb(root: LegacyRoot): VdbResult {
  const packages: PackageFact[] = [];
  const owned = new Map<string, OwnedFile>();
  const problems: Problem[] = [];
  let entries = 0;
  if (!root.isDir(VDB)) {
    problems.push({ path: VDB, message: "no Gentoo package database (not a Gentoo host, or not mounted)" });
    return { packages, owned, entries, problems };
  }
  for (const cat of root.list(VDB).sort(byName)) {
    if (!cat.isDirectory() || cat.name.startsWith(".")) continue;
    for (const pkg of root.list(`${VDB}/${cat.name}`).sort(byName)) {
      if (pkg.name.startsWith("-MERGING-") || pkg.name.startsWith(".")) continue; // an interrupted merge, not an installed package
      const hostDir = `${VDB}/${cat.name}/${pkg.name}`;
      if (!pkg.isDirectory()) {
        problems.push({ path: hostDir, message: "not a directory: not a VDB entry" });
        continue;
      }
      const real = root.real(hostDir);
      const read = (name: string) => {
        try {
          return readFileSync(path.join(real, name), "utf8");
        } catch (error) {
          return error as NodeJS.ErrnoException;
        }
      };
      const pf = read("PF");
      const category = read("CATEGORY");
      const contents = read("CONTENTS");
      const pfName = typeof pf === "string" ? pf.trim() : pkg.name;
      const split = splitPf(pfName);
      if (!split) {
        problems.push({ path: `${hostDir}/PF`, message: `"${pfName}" is not a Gentoo package-version` });
        continue;
      }
      if (typeof pf !== "string" && typeof contents !== "string") {
        problems.push({ path: hostDir, message: `unreadable VDB entry (${pf.code ?? pf.message}); package skipped` });
        continue;
      }
      if (typeof category === "string" && category.trim() !== cat.name) {
        problems.push({ path: `${hostDir}/CATEGORY`, line: 1, message: `says "${category.trim()}" but the entry is under ${cat.name}/` });
      }
      const atom = `${cat.name}/${pfName}`;
      const text = (name: string, fallback: string) => {
        const v = read(name);
        return typeof v === "string" ? v.trim() : fallback;
      };
      let count = 0;
      if (typeof contents === "string") {
        const parsed = parseContents(contents, `${hostDir}/CONTENTS`);
        problems.push(...parsed.problems);
        count = parsed.entries.length;
        for (const e of parsed.entries) {
          if (e.type !== "obj" && e.type !== "sym") continue;
          if (!KEPT.some((p) => e.path.startsWith(p))) continue;
          owned.set(e.path, e.type === "obj" ? { atom, md5: e.md5 } : { atom });
        }
      } else {
        problems.push({ path: `${hostDir}/CONTENTS`, message: `unreadable (${contents.code ?? contents.message}): the package's files count as unmanaged` });
      }
      entries += count;
      packages.push({
        atom,
        category: cat.name,
        name: split.name,
        version: split.version,
        slot: text("SLOT", "0").split("/")[0]!,
        use: text("USE", "").split(/\s+/).filter(Boolean),
        repository: text("repository", "gentoo"),
        selected: false,
        entries: count,
      });
    }
  }
  return { packages, owned, entries, problems };
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The package every file below `dir` belongs to, when one package installed all of them (and there is one). */
export function packageOwningTree(root: LegacyRoot, dir: string, owned: Map<string, OwnedFile>): string | undefined {
  let pkg: string | undefined;
  let any = false;
  const walk = (d: string): boolean => {
    for (const e of root.list(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) {
        if (!walk(p)) return false;
        continue;
      }
      any = true;
      const atom = owned.get(p)?.atom;
      if (!atom || (pkg && atom !== pkg)) return false;
      pkg = atom;
    }
    return true;
  };
  return walk(dir) && any ? pkg : undefined;
}
