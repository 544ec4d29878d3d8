import type { LegacyRoot } from "./legacy-root.js";
import { packageOwningTree, type OwnedFile } from "./vdb.js";
import type { AppFact, LocalBuildFact } from "./types.js";

const APP_ROOTS = ["/var/www", "/srv"];
// Where web applications keep what they write at run time when nobody told them otherwise.
const WRITABLE = new Set(["uploads", "upload", "cache", "tmp", "logs", "log", "sessions", "storage", "files", "media", "var", "data"]);
// Server-side code: a directory holding it is part of the application, whatever its name (an
// app's `apps/files`, a module's `media/`). Stylesheets and scripts for the browser are not
// counted: runtime directories hold them too (aggregated assets in Drupal's files/).
const CODE = /\.(php\d?|phtml|inc|module|install|py|rb|erb|pl|pm|cgi|lua|twig|tpl|jar|class|go)$/i;

/**
 * Applications deployed under /var/www and /srv, how they were deployed (the traces tools
 * leave: a Git checkout, Capistrano's REVISION and releases/, Ansible's deploy_helper
 * layout), and the directories inside their install tree they write into at run time: named
 * like runtime data and holding no server-side code.
 */
export function readApps(root: LegacyRoot, owned: Map<string, OwnedFile>): AppFact[] {
  const apps: AppFact[] = [];
  for (const base of APP_ROOTS) {
    for (const e of root.list(base)) {
      const dir = `${base}/${e.name}`;
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      // A package's placeholder site (every file a package's); Gentoo's nginx only keeps an empty
      // /var/www/localhost, so what is in it is the admin's site.
      if (packageOwningTree(root, dir, owned)) continue;
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
          if (WRITABLE.has(x.name) && root.usage(p).files > 0 && !holdsCode(root, p)) writesInto.push(p);
          else if (depth < 3) look(p, depth + 1);
        }
      };
      look(dir, 0);
      apps.push({ path: dir, deployedBy, writesInto, bytes: root.usage(dir).bytes });
    }
  }
  return apps;
}

/** True when a directory (or one below it) holds server-side code: application, not data. */
function holdsCode(root: LegacyRoot, dir: string): boolean {
  for (const e of root.list(dir)) {
    if (e.isFile() && CODE.test(e.name)) return true;
    if (e.isDirectory() && holdsCode(root, `${dir}/${e.name}`)) return true;
  }
  return false;
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
