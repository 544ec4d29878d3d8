import { parseShellVars } from "./portage.js";
import type { LegacyRoot } from "./legacy-root.js";
import type { OwnedFile } from "./vdb.js";
import type { Problem, ServiceFact } from "./types.js";

/**
 * OpenRC services enabled in a runlevel (`/etc/runlevels/<level>/<name>`, a link to
 * `/etc/init.d/<name>`), the package that installed each init script, and its
 * `/etc/conf.d/<name>` variables.
 */
export function readServices(root: LegacyRoot, owned: Map<string, OwnedFile>): { services: ServiceFact[]; problems: Problem[] } {
  const services: ServiceFact[] = [];
  const problems: Problem[] = [];
  for (const level of root.list("/etc/runlevels").sort((a, b) => a.name.localeCompare(b.name))) {
    if (!level.isDirectory()) continue;
    for (const entry of root.list(`/etc/runlevels/${level.name}`).sort((a, b) => a.name.localeCompare(b.name))) {
      const name = entry.name;
      const fact: ServiceFact = { name, runlevel: level.name };
      const owner = owned.get(`/etc/init.d/${name}`);
      if (owner) fact.package = owner.atom;
      if (!root.exists(`/etc/init.d/${name}`)) problems.push({ path: `/etc/runlevels/${level.name}/${name}`, message: `enabled, but /etc/init.d/${name} does not exist` });
      const confd = readConfd(root, name);
      if (confd) {
        fact.confd = confd.vars;
        problems.push(...confd.problems);
      }
      services.push(fact);
    }
  }
  return { services, problems };
}

/** Variables of `/etc/conf.d/<name>`, or undefined when there is no such file. */
export function readConfd(root: LegacyRoot, name: string): { vars: Record<string, string>; problems: Problem[] } | undefined {
  const file = `/etc/conf.d/${name}`;
  const text = root.read(file);
  return text === undefined ? undefined : parseShellVars(text, file);
}
