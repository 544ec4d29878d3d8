import type { Plan } from "./plan.js";
import { bytes, pct } from "./report.js";
import type { ShadowDiff } from "./shadow-diff.js";
import type { Inventory } from "./types.js";

const where = (p: { path: string; line?: number }) => `${p.path}${p.line ? `:${p.line}` : ""}`;

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
    ...plan.leftOut.map((l) => `    ${l.component} ${l.key}${l.value ? ` ${l.value}` : ""}${l.from ? `  (${l.from})` : ""}: ${l.reason}`),
    `  secrets to carry over (${plan.secrets.length}; values never copied):`,
    ...plan.secrets.map((s) => `    ${s.component} ${s.name}  (${s.from}) → ${s.carryTo}`),
    `  data to carry over: ${plan.data.length} paths, ${bytes(plan.data.reduce((n, x) => n + x.bytes, 0))} (carry-over.list)`,
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
    for (const l of d.leftOut) lines.push(`  ${l.component} ${l.key}${l.value ? ` ${l.value}` : ""}${l.from ? `  (${l.from})` : ""}: ${l.reason}`);
  }
  for (const p of d.problems) lines.push(`problem: ${where(p)}: ${p.message}`);
  lines.push(d.empty ? "no differences: for everything the plan migrated, the cut-over changes nothing the customer can see" : `${d.differences.length} difference${d.differences.length === 1 ? "" : "s"}`);
  return lines.join("\n");
}
