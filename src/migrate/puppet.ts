import type { LegacyRoot } from "./legacy-root.js";
import type { Problem, PuppetFact } from "./types.js";

// Puppet 4+ (AIO packages) first, then the distribution packages' older layout.
const STATE_DIRS = ["/opt/puppetlabs/puppet/cache/state", "/var/lib/puppet/state"];

/**
 * What Puppet manages on the host, from the agent's own records of its last run:
 * `classes.txt` (one class a line), `resources.txt` (`file[/etc/ntp.conf]`, lower-case type)
 * and `state.yaml` (one key per resource it checked: `File[/etc/ntp.conf]:`). No catalog is
 * compiled and no master is asked: this is what the agent last enforced.
 */
export function readPuppet(root: LegacyRoot): { puppet: PuppetFact; problems: Problem[] } {
  const problems: Problem[] = [];
  const stateDir = STATE_DIRS.find((d) => root.isDir(d)) ?? null;
  if (!stateDir) return { puppet: { stateDir: null, classes: [], resources: [] }, problems };
  const classes = new Set<string>();
  const resources = new Set<string>();
  // Old agents wrote classes.txt to $vardir, beside state/.
  const classText = root.read(`${stateDir}/classes.txt`) ?? root.read(`${stateDir}/../classes.txt`);
  for (const line of (classText ?? "").split("\n")) if (line.trim()) classes.add(line.trim());

  const resText = root.read(`${stateDir}/resources.txt`);
  (resText ?? "").split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const title = resourceTitle(line);
    if (title) resources.add(title);
    else problems.push({ path: `${stateDir}/resources.txt`, line: i + 1, message: `not a resource reference: ${JSON.stringify(line)}` });
  });

  const stateText = root.read(`${stateDir}/state.yaml`);
  (stateText ?? "").split("\n").forEach((raw) => {
    // Top-level keys only; values (:checked: …) are indented.
    const m = /^(["']?)([A-Za-z][\w:]*\[.*\])\1:\s*$/.exec(raw);
    if (m) resources.add(resourceTitle(m[2]!)!);
  });
  if (classText === undefined && resText === undefined && stateText === undefined) {
    problems.push({ path: stateDir, message: "Puppet state directory without classes.txt, resources.txt or state.yaml" });
  }
  return { puppet: { stateDir, classes: [...classes].sort(), resources: [...resources].sort() }, problems };
}

/** `file[/etc/ntp.conf]` or `File[/etc/ntp.conf]` → `File[/etc/ntp.conf]`; `apache::vhost[x]` → `Apache::Vhost[x]`. */
export function resourceTitle(ref: string): string | undefined {
  const m = /^([A-Za-z][\w]*(?:::[A-Za-z]\w*)*)\[(.+)\]$/.exec(ref);
  if (!m) return undefined;
  const type = m[1]!.split("::").map((s) => s[0]!.toUpperCase() + s.slice(1).toLowerCase()).join("::");
  return `${type}[${m[2]}]`;
}

/** Files Puppet manages: host path → resource title. */
export function puppetFiles(puppet: PuppetFact): Map<string, string> {
  const files = new Map<string, string>();
  for (const r of puppet.resources) {
    const m = /^File\[(\/.*)\]$/.exec(r);
    if (m) files.set(m[1]!.replace(/\/+$/, "") || "/", r);
  }
  return files;
}
