import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { canSandbox } from "../../src/migrate/verify/sandbox.js";
import { cli, tempDir } from "../helpers.js";
import { fleet, nginxCorpus, type FleetHost } from "../support/corpus.js";
import { writeCorpusHost } from "../support/corpus-host.js";

/**
 * The whole corpus, as a new user would move it: every legacy host of hosts.json (a real-world
 * nginx configuration each, with PostgreSQL, Redis and memcached tunings) through
 * `migrate inventory`, `migrate plan` (which builds) and `migrate verify` (which switches the plan
 * and sends both hosts the same requests). Two hosts at a time (two cores); each host is switched
 * into a state directory of its own, as each new host has one.
 */
interface Outcome {
  host: string;
  config: string;
  verdict: "identical" | "blocked" | "unexplained";
  requests: number;
  why: string;
}

const sandbox = canSandbox();

async function migrate(h: FleetHost, index: number): Promise<Outcome> {
  const dir = tempDir(`fleet-${h.host}-`);
  const root = path.join(dir, "root");
  mkdirSync(root);
  writeCorpusHost(root, h, nginxCorpus().get(h.nginx)!, index);
  const inv = path.join(dir, "inventory.json");
  const planDir = path.join(dir, "plan");
  const steps = [
    await cli(["migrate", "inventory", "--root", root, "--out", inv]),
    await cli(["migrate", "plan", "--inventory", inv, "--out", planDir]),
  ];
  if (steps[0]!.code !== 0) return { host: h.host, config: h.nginx, verdict: "unexplained", requests: 0, why: `inventory: ${steps[0]!.stderr.trim()}` };
  const plan = JSON.parse(readFileSync(path.join(planDir, "plan.json"), "utf8")) as { blockers: { kind: string; detail: string }[]; build: { ok: boolean; error?: string } };
  const verify = await cli(["migrate", "verify", "--root", root, "--plan", planDir, "--json"]);
  let report: { identical: boolean; requests: number; differences: { component: string; subject: string; field: string; legacy: string | null; congruent: string | null }[] } | undefined;
  try {
    report = JSON.parse(verify.stdout);
  } catch {
    // no report: the reason is on stderr
  }
  const requests = report?.requests ?? 0;
  const out = { host: h.host, config: h.nginx, requests };
  if (plan.blockers.length) {
    rmSync(dir, { recursive: true, force: true });
    return { ...out, verdict: "blocked", why: plan.blockers.map((b) => `${b.kind}: ${b.detail}`).join("; ") };
  }
  if (plan.build.ok && report?.identical && verify.code === 0) rmSync(dir, { recursive: true, force: true }); // what is unexplained stays, to look at
  if (plan.build.ok && report?.identical && verify.code === 0) return { ...out, verdict: "identical", why: "" };
  const first = report?.differences[0];
  const why = !plan.build.ok ? `plan does not build: ${plan.build.error}` : first ? `${first.component} ${first.field} ${first.subject}: ${first.legacy} → ${first.congruent} (${report!.differences.length} differences)` : `verify exited ${verify.code}: ${verify.stderr.trim().split("\n").at(-1)}`;
  return { ...out, verdict: "unexplained", why };
}

describe.skipIf(!sandbox.ok)(`a fleet of legacy hosts from real-world configurations${sandbox.ok ? "" : ` (skipped: migrate verify ${sandbox.why})`}`, () => {
  it("moves ≥ 90% of the hosts with no manual step and identical behaviour, and names every other host's blockers", async () => {
    const hosts = fleet();
    if (!process.env.CONGRUENT_CORPUS_DIR) expect(nginxCorpus().size).toBeGreaterThanOrEqual(30);
    const t0 = Date.now();
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < hosts.length; i = next++) outcomes[i] = await migrate(hosts[i]!, i);
    };
    await Promise.all([worker(), worker()]);
    const seconds = (Date.now() - t0) / 1000;

    const count = (v: Outcome["verdict"]) => outcomes.filter((o) => o.verdict === v).length;
    const pct = (n: number) => `${Math.round((100 * n) / hosts.length)}%`;
    const requests = outcomes.reduce((s, o) => s + o.requests, 0);
    const lines = outcomes.map((o) => `  ${o.host}  ${o.config.padEnd(22)} ${o.verdict.padEnd(11)} ${o.requests.toString().padStart(4)} requests${o.why ? `  ${o.why.slice(0, 220)}` : ""}`);
    console.log(
      [
        `fleet: ${hosts.length} hosts from ${nginxCorpus().size} real-world nginx configurations; ${requests} requests sent to each side; ${seconds.toFixed(0)} s`,
        ...lines,
        `identical with no manual step: ${count("identical")}/${hosts.length} (${pct(count("identical"))}); named blockers: ${count("blocked")} (${pct(count("blocked"))}); unexplained: ${count("unexplained")}`,
      ].join("\n"),
    );
    expect(outcomes.filter((o) => o.verdict === "unexplained").map((o) => `${o.host} ${o.config}: ${o.why}`)).toEqual([]);
    expect(count("identical") / hosts.length).toBeGreaterThanOrEqual(0.9);
  }, 1_800_000);
});
