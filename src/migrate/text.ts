import type { LeftOut } from "./conversion.js";
import type { Plan } from "./plan.js";
import { bytes, pct } from "./report.js";
import type { ShadowDiff } from "./shadow-diff.js";
import type { Inventory } from "./types.js";
import type { VerifyReport } from "./verify/index.js";

const where = (p: { path: string; line?: number }) => `${p.path}${p.line ? `:${p.line}` : ""}`;

const leftOutLine = (l: LeftOut) => `${l.component} ${l.key}${l.value ? ` ${l.value}` : ""}${l.from ? `  (${l.from})` : ""}: ${l.reason}${l.visible ? `; VISIBLE TO CLIENTS: ${l.visible}` : ""}`;

/** `migrate inventory` for people: the shares, the hand-edited and unmanaged files, blockers, problems. */
export function inventoryText(inv: Inventory): string {
  const s = inv.summary;
  const f = inv.facts;
  const total = Math.max(1, s.items);
  const handEdited = f.configs.filter((c) => c.state === "hand-edited");
  const unmanaged = f.configs.filter((c) => c.state === "unmanaged");
  const lines = [
    `${inv.host} (${inv.root}): ${s.items} items: ${s.congruent} congruent (${pct(s.congruent / total)}), ${s.convergent} convergent (${pct(s.convergent / total)}), ${s.divergent} divergent (${pct(s.divergent / total)}); ${bytes(s.dataBytes)} of data to carry over`,
    `packages ${f.packages.length} (${f.packages.filter((p) => p.selected).length} in the world file), services ${f.services.length}, /etc files ${f.configs.length}, cron jobs ${f.cron.length}, users ${f.users.length}, Puppet ${f.puppet.stateDir ? `${f.puppet.classes.length} classes, ${f.puppet.resources.length} resources` : "not found"}`,
    "",
    `hand-edited (${handEdited.length}):`,
    ...handEdited.map((c) => `  ${c.path}  (${c.package}${c.puppet ? `, Puppet ${c.puppet}` : ""})`),
    `unmanaged (${unmanaged.length}):`,
    ...unmanaged.map((c) => `  ${c.path}${c.puppet ? `  (Puppet ${c.puppet})` : ""}`),
    "",
    `blockers (${inv.blockers.length}):`,
    ...inv.blockers.map((b) => `  ${b.kind.padEnd(18)} ${b.detail}`),
  ];
  if (inv.problems.length) lines.push("", `problems (${inv.problems.length}; read on past each):`, ...inv.problems.map((p) => `  ${where(p)}: ${p.message}`));
  lines.push("", s.ready ? "ready: no blockers" : `not ready: ${s.blockers} blocker${s.blockers === 1 ? "" : "s"} (every item and its reason: --json)`);
  return lines.join("\n");
}

/** `migrate plan` for people. */
export function planText(plan: Plan, out: string): string {
  const d = plan.description;
  const settings = Object.entries(d.settings).flatMap(([c, s]) => Object.entries(s).map(([k, v]) => `${c}.${k}=${v}`));
  const lines = [
    `plan for ${plan.host} written to ${out}`,
    `  host.json: roles ${d.roles.join(", ") || "(none)"}${settings.length ? `; settings ${settings.join(", ")}` : ""}`,
    "  snippets:",
    ...plan.snippets.map((s) => `    ${s.file}  ← ${s.from.slice(0, 3).join(", ")}${s.from.length > 3 ? ", …" : ""}`),
    `  left out on purpose (${plan.leftOut.length}):`,
    ...plan.leftOut.map((l) => `    ${leftOutLine(l)}`),
    `  secrets to carry over (${plan.secrets.length}; values never copied):`,
    ...plan.secrets.map((s) => `    ${s.component} ${s.name}  (${s.from}) → ${s.carryTo}`),
    `  data to carry over: ${plan.data.length} paths, ${bytes(plan.data.reduce((n, x) => n + x.bytes, 0))} (carry-over.list)`,
    ...(plan.directories.length ? [`  directories to create: ${plan.directories.length} (directories.list)`, ...plan.directories.map((d) => `    ${d.path}: ${d.reason}`)] : []),
    ...(plan.deployments.length ? [`  deployed again by their tool (${plan.deployments.length}):`, ...plan.deployments.map((d) => `    ${d.path} (${d.deployedBy})`)] : []),
    ...(plan.accounts.length ? [`  accounts to create (${plan.accounts.length}; /etc/passwd is never copied): ${plan.accounts.map((a) => `${a.name} (${a.uid})`).join(", ")}`] : []),
    ...(plan.review.length ? [`  left behind for review (${plan.review.length}; not copied):`, ...plan.review.map((r) => `    ${r.path}: ${r.reason}`)] : []),
    `  blockers (${plan.blockers.length}):`,
    ...plan.blockers.map((b) => `    ${b.kind.padEnd(18)} ${b.detail}`),
    `  user profiles to make (${plan.profiles.length}; a default.nix naming these, then the command):`,
    ...plan.profiles.flatMap((p) => [
      `    ${p.user}: ${p.contents.map((c) => `${c.provides}${c.package ? ` (${c.package})` : ""} for ${c.for.join(", ")}`).join("; ")}`,
      `      ${p.install}`,
    ]),
  ];
  const b = plan.build;
  lines.push(b.ok ? `build: ok (${b.generation})` : b.skipped ? `build: skipped (${b.skipped})` : `build: FAILED: ${b.error}`);
  return lines.join("\n");
}

/** `migrate diff` for people, like diff(1): nothing but the verdict when there is nothing to say. */
export function diffText(d: ShadowDiff): string {
  const lines = d.components.map((c) => `${c.component}: ${c.compared} settings and directives compared, ${c.differ} differ`);
  for (const x of d.differences) lines.push(`  ${x.key}\n    legacy:    ${x.legacy ?? "(not set)"}\n    congruent: ${x.congruent ?? "(not set)"}\n    ${x.reason}`);
  if (d.leftOut.length) {
    lines.push(`left out on purpose, not compared (${d.leftOut.length}):`);
    for (const l of d.leftOut) lines.push(`  ${leftOutLine(l)}`);
  }
  for (const p of d.problems) lines.push(`problem: ${where(p)}: ${p.message}`);
  lines.push(d.empty ? "no differences: for everything the plan migrated, the cut-over changes nothing the customer can see" : `${d.differences.length} difference${d.differences.length === 1 ? "" : "s"}`);
  return lines.join("\n");
}

/** `migrate verify` for people: per component what was compared, each difference once with the requests it concerns. */
export function verifyText(r: VerifyReport): string {
  const lines = r.components.map((c) =>
    c.component === "nginx" ? `nginx: ${c.compared} requests to each host, ${c.differ} answered differently` : `${c.component}: ${c.compared} settings compared, ${c.differ} differ`,
  );
  const groups = new Map<string, { d: VerifyReport["differences"][number]; subjects: string[] }>();
  for (const d of r.differences) {
    const key = JSON.stringify([d.component, d.field, d.legacy, d.congruent]);
    const g = groups.get(key) ?? { d, subjects: [] };
    g.subjects.push(d.subject);
    groups.set(key, g);
  }
  if (groups.size) lines.push("", `differences (${r.differences.length}):`);
  for (const { d, subjects } of groups.values()) {
    lines.push(`  ${d.component} ${d.field}${d.field === "setting" ? ` ${d.subject}` : ""}`);
    if (d.field !== "setting") for (const s of subjects.slice(0, 3)) lines.push(`    ${s}`);
    if (subjects.length > 3) lines.push(`    … and ${subjects.length - 3} more requests`);
    lines.push(`      legacy:    ${d.legacy ?? "(none)"}`, `      congruent: ${d.congruent ?? "(none)"}`);
  }
  if (r.assumptions.length) lines.push("", `taken as given (${r.assumptions.length}):`, ...r.assumptions.map((a) => `  ${a}`));
  if (r.blockers.length) lines.push("", `blockers the plan names (${r.blockers.length}; steps before the cut-over):`, ...r.blockers.map((b) => `  ${b.kind.padEnd(18)} ${b.detail}`));
  lines.push(
    "",
    r.identical
      ? `identical: the migrated host answered all ${r.requests} requests as the legacy host did, and every setting compared is the same`
      : `${r.differences.length} difference${r.differences.length === 1 ? "" : "s"}: the cut-over would change what clients see`,
  );
  return lines.join("\n");
}
