import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, cliJson, tempDir } from "../helpers.js";
import { writeLegacyHost, type LegacyHostInfo } from "../support/legacy-host.js";

// The command-line contracts of `congruent migrate`, end to end through the built CLI.
let host: LegacyHostInfo;
let work: string;
let inventoryFile: string;

beforeAll(async () => {
  host = writeLegacyHost(tempDir("legacy-"), { broken: { malformedContents: true, badNginx: true } });
  work = tempDir("migrate-");
  // --out makes the directory it writes into (a fleet's inventories are collected in one).
  inventoryFile = path.join(work, "inv", "web17.json");
});

describe("congruent migrate inventory", () => {
  it("prints the inventory as JSON, writes it with --out, and reports bad input per item on stderr (exit 0)", async () => {
    const r = await cli(["migrate", "inventory", "--root", host.root, "--out", inventoryFile, "--json"]);
    expect(r.code).toBe(0);
    const inv = JSON.parse(r.stdout);
    expect(inv).toMatchObject({ format: "congruent-migrate-inventory/1", host: "web17", summary: { ready: false } });
    expect(JSON.parse(readFileSync(inventoryFile, "utf8")).facts.packages).toHaveLength(inv.facts.packages.length);
    expect(r.stderr).toContain(`${host.planted.malformedContents!.path}:3: malformed CONTENTS line`);
    expect(r.stderr).toContain("/etc/nginx/vhosts.d/broken.conf:8: nginx cannot parse this file");
  });

  it("says for people what is hand-edited, unmanaged, blocking", async () => {
    const r = await cli(["migrate", "inventory", "--root", host.root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^web17 \(.*\): \d+ items: \d+ congruent/);
    expect(r.stdout).toMatch(/hand-edited \(5\):\n {2}\/etc\/conf.d\/memcached/);
    expect(r.stdout).toContain("  /etc/shop/shop.env");
    expect(r.stdout).toContain("no-role            dev-lang/php-8.1.24 runs php-fpm");
  });

  it("exits 1 with one line naming the root when it is not a directory", async () => {
    const r = await cli(["migrate", "inventory", "--root", path.join(work, "nope")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`congruent: ${path.join(work, "nope")}: not a directory (the legacy host's root)\n`);
  });
});

describe("congruent migrate plan", () => {
  it("writes the plan, builds it, exits 0", async () => {
    const out = path.join(work, "plan");
    const plan = await cliJson<{ build: { ok: boolean }; description: { roles: string[] }; snippets: { file: string }[] }>(["migrate", "plan", "--inventory", inventoryFile, "--out", out]);
    expect(plan.build.ok).toBe(true);
    expect(plan.description.roles).toContain("webgateway");
    for (const s of plan.snippets) expect(existsSync(path.join(out, s.file))).toBe(true);
    expect(existsSync(path.join(out, "plan.json"))).toBe(true);
    const text = await cli(["migrate", "plan", "--inventory", inventoryFile, "--out", out]);
    expect(text.stdout).toMatch(/^build: ok \([0-9a-z]{32}-system-web17\)$/m);
  });

  it("exits 1 when the proposed description does not build, and still writes the plan with the reason", async () => {
    const inv = JSON.parse(readFileSync(inventoryFile, "utf8"));
    const server = inv.facts.nginx.servers[1];
    server.block.push({ name: "frobnicate", args: ["on"], path: "/etc/nginx/vhosts.d/shop.conf", line: 99 });
    const bad = path.join(work, "bad-inventory.json");
    writeFileSync(bad, JSON.stringify(inv));
    const out = path.join(work, "plan-bad");
    const r = await cli(["migrate", "plan", "--inventory", bad, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/build: FAILED: .*02-shop\.example\.com\.conf:\d+: unknown directive "frobnicate"/);
    expect(JSON.parse(readFileSync(path.join(out, "plan.json"), "utf8")).build).toMatchObject({ ok: false, error: expect.stringContaining("frobnicate") });
  });

  it("names file and line of an inventory it cannot use", async () => {
    const bad = path.join(work, "truncated.json");
    writeFileSync(bad, '{\n  "format": "congruent-migrate-inventory/1",\n  "host": 17\n}\n');
    const r = await cli(["migrate", "plan", "--inventory", bad, "--out", path.join(work, "x")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^congruent: ${bad}:3: not a migrate inventory: host: `));
  });
});

describe("congruent migrate diff", () => {
  it("exits 0 when nothing differs and 2 when something does, like diff(1)", async () => {
    const out = path.join(work, "plan-diff");
    expect((await cli(["migrate", "plan", "--inventory", inventoryFile, "--out", out, "--no-build"])).code).toBe(0);
    const same = await cli(["migrate", "diff", "--root", host.root, "--plan", out]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("no differences: for everything the plan migrated, the cut-over changes nothing the customer can see");

    const conf = path.join(host.root, "etc/postgresql-15/postgresql.conf");
    const before = readFileSync(conf, "utf8");
    writeFileSync(conf, before.replace("max_connections = 200", "max_connections = 300"));
    try {
      const r = await cli(["migrate", "diff", "--root", host.root, "--plan", out, "--json"]);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).differences).toEqual([{ component: "postgresql", key: "postgresql max_connections", legacy: "300", congruent: "200", reason: "the values differ" }]);
      const text = await cli(["migrate", "diff", "--root", host.root, "--plan", out]);
      expect(text.code).toBe(2);
      expect(text.stdout).toContain("  postgresql max_connections\n    legacy:    300\n    congruent: 200");
    } finally {
      writeFileSync(conf, before);
    }
  });
});

describe("congruent migrate diff, bad input", () => {
  it("exits 1 naming what it cannot read", async () => {
    const noRoot = await cli(["migrate", "diff", "--root", path.join(work, "nope"), "--plan", work]);
    expect(noRoot.code).toBe(1);
    expect(noRoot.stderr).toContain("not a directory (the legacy host's root)");
    const noPlan = await cli(["migrate", "diff", "--root", host.root, "--plan", path.join(work, "no-plan")]);
    expect(noPlan.code).toBe(1);
    expect(noPlan.stderr).toContain(`${path.join(work, "no-plan", "host.json")}: cannot read the plan's host description: ENOENT`);
  });
});

describe("congruent migrate report", () => {
  let html: string;
  beforeAll(async () => {
    // A small fleet: this host, one ready clone of it, and a file that is no inventory.
    const inv = JSON.parse(readFileSync(inventoryFile, "utf8"));
    writeFileSync(path.join(work, "inv", "db3.json"), JSON.stringify({ ...inv, host: "db3", blockers: [], summary: { ...inv.summary, blockers: 0, ready: true } }));
    writeFileSync(path.join(work, "inv", "notes.json"), "[]");
    html = path.join(work, "reports", "fleet.html");
  });

  it("prints the fleet view as JSON and names the file it could not read (exit 0)", async () => {
    const r = await cli(["migrate", "report", "--inventories", path.join(work, "inv"), "--json", "--html", html]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.hosts.map((h: { host: string; ready: boolean }) => [h.host, h.ready])).toEqual([["db3", true], ["web17", false]]);
    expect(report.topBlockers[0]).toMatchObject({ hosts: 1 });
    expect(report.problems).toEqual([{ path: path.join(work, "inv", "notes.json"), message: expect.stringContaining("not a migrate inventory") }]);
    expect(r.stderr).toContain("notes.json:1: not a migrate inventory");
  });

  it("writes one self-contained HTML page that shows the hosts and the top blockers in a real browser", async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on("request", (req) => {
        if (!req.url().startsWith("file:")) external.push(req.url());
      });
      await page.goto(pathToFileURL(html).href);
      const rows = page.locator("#hosts tbody tr");
      expect(await rows.count()).toBe(2);
      expect(await rows.nth(0).isVisible()).toBe(true);
      expect(await rows.nth(0).locator("td").nth(1).innerText()).toBe("db3");
      expect(await rows.nth(0).locator("td.ready").innerText()).toBe("ready");
      expect(await rows.nth(1).innerText()).toContain("dev-lang/php");
      const blockers = page.locator("#blockers tbody tr");
      expect(await blockers.first().isVisible()).toBe(true);
      expect(await page.locator("#blockers").innerText()).toContain("application writes into its install directory");
      expect(await page.locator("#first li").first().innerText()).toContain("db3");
      // The green bar is really drawn: its width follows the share.
      const green = await rows.nth(0).locator(".bar .g").boundingBox();
      expect(green!.width).toBeGreaterThan(50);
      expect(external).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("exits 1 when no inventory can be read", async () => {
    const empty = tempDir("inv-");
    const r = await cli(["migrate", "report", "--inventories", empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no readable inventory");
  });
});

describe("--help", () => {
  it.each(["inventory", "plan", "report", "diff", "verify"])("migrate %s says what it reads, writes, its exit status and an example", async (sub) => {
    const r = await cli(["migrate", sub, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Exit status");
    expect(r.stdout).toContain(`$ congruent migrate ${sub}`);
    expect(r.stdout).toContain("--json");
  });
});
