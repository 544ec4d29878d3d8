import type { LegacyRoot } from "./legacy-root.js";
import type { OwnedFile } from "./vdb.js";
import type { AppFact, LocalBuildFact } from "./types.js";

const APP_ROOTS = ["/var/www", "/srv"];
// Where web applications keep what they write at run time when nobody told them otherwise.
const WRITABLE = new Set(["uploads", "upload", "cache", "tmp", "logs", "log", "sessions", "storage", "files", "media", "var"]);

/**
 * Applications deployed under /var/www and /srv, how they were deployed (the traces tools
 * leave: a Git checkout, Capistrano's REVISION and releases/, Ansible's deploy_helper
 * layout), and the directories inside their install tree they write into at run time.
 */
export function readApps(root: LegacyRoot, owned: Map<string, OwnedFile>): AppFact[] {
  const apps: AppFact[] = [];
  for (const base of APP_ROOTS) {
    for (const e of root.list(base)) {
      const dir = `${base}/${e.name}`;
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      if (owned.has(`${dir}/index.html`) || (e.name === "localhost" && base === "/var/www")) continue; // a package's placeholder site
      const names = new Set(root.list(dir).map((x) => x.name));
      const deployedBy = names.has(".git")
        ? "git checkout"
        : names.has("REVISION") || names.has("releases")
          ? names.has(".ansible") || root.exists(`${dir}/releases/.ansible_deploy`) ? "ansible deploy_helper" : "capistrano-style releases"
          : names.has(".ansible_managed")
            ? "ansible"
            : "copied by hand (no deployment tool's traces)";
      const writesInto: string[] = [];
      const look = (d: string, depth: number) => {
        for (const x of root.list(d)) {
          if (!x.isDirectory() || x.name === ".git" || x.name === "node_modules" || x.name === "vendor") continue;
          const p = `${d}/${x.name}`;
          if (WRITABLE.has(x.name) && root.usage(p).files > 0) writesInto.push(p);
          else if (depth < 3) look(p, depth + 1);
        }
      };
      look(dir, 0);
      apps.push({ path: dir, deployedBy, writesInto, bytes: root.usage(dir).bytes });
    }
  }
  return apps;
}

/**
 * Software installed without the package manager: files below /usr/local and /opt that no
 * package's CONTENTS lists and Puppet does not manage, grouped by their first directory (`/usr/local/bin`, `/opt/foo`).
 */
export function readLocalBuilds(root: LegacyRoot, owned: Map<string, OwnedFile>, puppet: Map<string, string> = new Map()): LocalBuildFact[] {
  const builds: LocalBuildFact[] = [];
  const groups = [
    ...root.list("/usr/local").filter((e) => e.isDirectory()).map((e) => `/usr/local/${e.name}`),
    ...root.list("/opt").filter((e) => e.isDirectory() && e.name !== "puppetlabs").map((e) => `/opt/${e.name}`),
  ];
  for (const group of groups.sort()) {
    let files = 0;
    let bytes = 0;
    const walk = (d: string) => {
      for (const x of root.list(d)) {
        const p = `${d}/${x.name}`;
        if (x.isDirectory()) walk(p);
        else if (!owned.has(p) && !puppet.has(p)) {
          files++;
          bytes += x.isFile() ? root.size(p) : 0;
        }
      }
    };
    walk(group);
    if (files > 0) builds.push({ path: group, files, bytes });
  }
  return builds;
}
