import type { LegacyRoot } from "./legacy-root.js";
import type { OwnedFile } from "./vdb.js";
import type { ConfigFact } from "./types.js";

/**
 * Every file under /etc with who answers for it: a package (pristine, or *hand-edited* when
 * its md5 differs from CONTENTS), Puppet (a File resource), or nobody (*unmanaged*). Package
 * files CONTENTS lists that are gone are reported as missing. Symlinks count as the package's
 * when CONTENTS lists them; their targets are not compared.
 */
export function readEtc(root: LegacyRoot, owned: Map<string, OwnedFile>, puppet: Map<string, string>): ConfigFact[] {
  const facts: ConfigFact[] = [];
  const seen = new Set<string>();
  const walk = (dir: string) => {
    for (const e of root.list(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (p !== "/etc/runlevels") walk(p); // runlevels are services, read by openrc.ts
        continue;
      }
      if (!e.isFile() && !e.isSymbolicLink()) continue;
      seen.add(p);
      const owner = owned.get(p);
      const managedBy = puppet.get(p);
      const fact: ConfigFact = { path: p, state: "unmanaged" };
      if (owner) {
        fact.package = owner.atom;
        fact.state = owner.md5 === undefined || !e.isFile() || root.md5(p) === owner.md5 ? "pristine" : "hand-edited";
      }
      if (managedBy) fact.puppet = managedBy;
      facts.push(fact);
    }
  };
  walk("/etc");
  for (const [p, owner] of owned) {
    if (p.startsWith("/etc/") && owner.md5 !== undefined && !seen.has(p)) facts.push({ path: p, state: "missing", package: owner.atom });
  }
  return facts.sort((a, b) => (a.path < b.path ? -1 : 1));
}
