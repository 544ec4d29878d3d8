import { describe, expect, it } from "vitest";
import { buildReport } from "./report.js";
import { reportHtml } from "./report-html.js";
import type { Blocker, Inventory } from "./types.js";

function inv(host: string, counts: [number, number, number], blockers: Blocker[], dataBytes = 0): { file: string; inv: Inventory } {
  const [congruent, convergent, divergent] = counts;
  return {
    file: `${host}.json`,
    inv: {
      host,
      blockers,
      summary: { items: congruent + convergent + divergent, congruent, convergent, divergent, dataBytes, blockers: blockers.length, ready: blockers.length === 0 },
    } as Inventory,
  };
}
const php: Blocker = { kind: "no-role", subject: "dev-lang/php", detail: "php-fpm" };
const venv: Blocker = { kind: "home-links-system", subject: "virtualenv on the system's python3.11", detail: "…" };

describe("fleet report", () => {
  const r = buildReport([inv("web1", [80, 10, 10], [php, venv]), inv("db1", [50, 0, 50], [], 10e9), inv("web2", [90, 5, 5], [php]), inv("web3", [95, 5, 0], [])]);

  it("orders hosts: ready first (greenest, least data), then by fewest blockers", () => {
    expect(r.hosts.map((h) => [h.order, h.host, h.ready])).toEqual([[1, "web3", true], [2, "db1", true], [3, "web2", false], [4, "web1", false]]);
    expect(r.hosts[0]).toMatchObject({ green: 0.95, yellow: 0.05, red: 0 });
  });

  it("counts each blocker once per host it holds back, most common first", () => {
    expect(r.topBlockers.map((b) => [b.subject, b.hosts])).toEqual([["dev-lang/php", 2], ["virtualenv on the system's python3.11", 1]]);
    expect(r.totals).toMatchObject({ hosts: 4, ready: 2, items: 400 });
  });

  it("renders one self-contained HTML page: no script, no external URL", () => {
    const html = reportHtml(r);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
    expect(html.match(/<tr data-host=/g)).toHaveLength(4);
    expect(html).toContain("dev-lang/php");
  });

  it("escapes what it did not write itself", () => {
    const html = reportHtml(buildReport([inv("<b>x</b>", [1, 0, 0], [{ kind: "no-role", subject: "<script>", detail: "" }])]));
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;");
  });
});
