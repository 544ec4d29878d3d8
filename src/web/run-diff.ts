import type { StoredReport } from "../directory/api.js";

export interface RunDiffRow {
  what: string;
  a: string;
  b: string;
  same: boolean;
}

const entries = (list: StoredReport["plan"]) => list.filter((p) => p.action !== "none").map((p) => [p.service, `${p.action}${p.why.length ? `\n  ${p.why.join("\n  ")}` : ""}`] as const);

/**
 * Two runs of one host side by side, field by field: result, release, generation, each
 * service's plan entry, what waited for the window, each service's state and PID, error and
 * warnings. Older run first.
 *
 * @example diffRuns(r1, r2).filter((d) => !d.same) // [{ what: "plan: nginx", a: "none", b: "reload\n  worker_processes: 1 → 2 (reload)" }, …]
 */
export function diffRuns(x: StoredReport, y: StoredReport): { a: StoredReport; b: StoredReport; rows: RunDiffRow[] } {
  const [a, b] = x.id <= y.id ? [x, y] : [y, x];
  const rows: RunDiffRow[] = [];
  const add = (what: string, va: string, vb: string) => rows.push({ what, a: va, b: vb, same: va === vb });
  add("result", a.result, b.result);
  add("release", a.release ? `${a.release.channel}#${a.release.number}` : "none", b.release ? `${b.release.channel}#${b.release.number}` : "none");
  add("generation", a.generation ?? "none", b.generation ?? "none");
  for (const [label, pick] of [["plan", (r: StoredReport) => r.plan], ["waits for window", (r: StoredReport) => r.deferred]] as const) {
    const pa = new Map(entries(pick(a)));
    const pb = new Map(entries(pick(b)));
    for (const service of [...new Set([...pa.keys(), ...pb.keys()])].sort()) add(`${label}: ${service}`, pa.get(service) ?? "none", pb.get(service) ?? "none");
  }
  const sa = new Map(a.services.map((s) => [s.name, `${s.state}, pid ${s.pid ?? "–"}`]));
  const sb = new Map(b.services.map((s) => [s.name, `${s.state}, pid ${s.pid ?? "–"}`]));
  for (const service of [...new Set([...sa.keys(), ...sb.keys()])].sort()) add(`service: ${service}`, sa.get(service) ?? "absent", sb.get(service) ?? "absent");
  add("error", a.error ?? "none", b.error ?? "none");
  add("warnings", a.warnings.join("\n") || "none", b.warnings.join("\n") || "none");
  add("open CVEs", String(a.vulnerabilities?.total ?? "not scanned"), String(b.vulnerabilities?.total ?? "not scanned"));
  return { a, b, rows };
}
