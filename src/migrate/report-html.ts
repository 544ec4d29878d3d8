import { bytes, pct, type FleetReport } from "./report.js";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const CSS = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1d232a; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.muted { color: #5b6670; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #dde2e6; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { display: flex; width: 12rem; height: .9rem; border-radius: 3px; overflow: hidden; background: #eee; }
.g { background: #2f9e44; } .y { background: #f2c200; } .r { background: #d9480f; }
.ready { color: #2f9e44; font-weight: 600; } .blocked { color: #d9480f; }
.key span { display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; vertical-align: -1px; border-radius: 2px; }
ol li { margin: .2rem 0; }
`;

/**
 * The fleet report as one self-contained HTML page: inline CSS, no script, no external URL,
 * so it opens from a file in any browser and can be mailed around.
 */
export function reportHtml(r: FleetReport): string {
  const t = r.totals;
  const rows = r.hosts
    .map(
      (h) => `<tr data-host="${esc(h.host)}">
<td class="num">${h.order}</td><td>${esc(h.host)}</td>
<td><div class="bar" title="${pct(h.green)} congruent, ${pct(h.yellow)} convergent, ${pct(h.red)} divergent"><div class="g" style="width:${(h.green * 100).toFixed(1)}%"></div><div class="y" style="width:${(h.yellow * 100).toFixed(1)}%"></div><div class="r" style="width:${(h.red * 100).toFixed(1)}%"></div></div></td>
<td class="num">${pct(h.green)}</td><td class="num">${pct(h.yellow)}</td><td class="num">${pct(h.red)}</td>
<td class="num">${esc(bytes(h.dataBytes))}</td>
<td class="${h.ready ? "ready" : "blocked"}">${h.ready ? "ready" : `${h.blockers} blocker${h.blockers === 1 ? "" : "s"}`}</td>
<td>${esc(h.blockedBy.join("; "))}</td></tr>`,
    )
    .join("\n");
  const blockers = r.topBlockers
    .slice(0, 15)
    .map((b) => `<tr><td class="num">${b.hosts}</td><td>${esc(b.kind)}</td><td>${esc(b.subject)}</td><td>${esc(b.examples.join(", "))}${b.hosts > b.examples.length ? ", …" : ""}</td></tr>`)
    .join("\n");
  const first = r.hosts.slice(0, 10).map((h) => `<li><strong>${esc(h.host)}</strong> — ${esc(h.why)}</li>`).join("\n");
  const problems = r.problems.length ? `<h2>Inventories that could not be read</h2><ul>${r.problems.map((p) => `<li>${esc(p.path)}: ${esc(p.message)}</li>`).join("")}</ul>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Congruent migration report: ${t.hosts} hosts</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
<h1>Migration report</h1>
<p class="muted">${t.hosts} hosts, ${t.ready} ready to migrate · generated ${esc(r.generatedAt)} by congruent migrate report</p>
<p>Across the fleet: <strong>${pct(t.green)}</strong> congruent (built from the description), <strong>${pct(t.yellow)}</strong> convergent (kept in line by a tool), <strong>${pct(t.red)}</strong> divergent (carried over as data: ${esc(bytes(t.dataBytes))}).
<span class="key"><span class="g"></span>congruent<span class="y"></span>convergent<span class="r"></span>divergent</span></p>
<h2>Migrate first</h2>
<ol id="first">${first}</ol>
<h2>Most common blockers</h2>
<table id="blockers"><thead><tr><th>hosts</th><th>kind</th><th>blocker</th><th>for example</th></tr></thead><tbody>
${blockers || '<tr><td colspan="4">none: every host is ready</td></tr>'}
</tbody></table>
<h2>Hosts</h2>
<table id="hosts"><thead><tr><th>order</th><th>host</th><th>share</th><th>green</th><th>yellow</th><th>red</th><th>data</th><th>readiness</th><th>blocked by</th></tr></thead><tbody>
${rows}
</tbody></table>
${problems}
</body></html>
`;
}
