/// <reference lib="dom" />
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cli, cliJson, freePort, tempDir, vhost, writeSnippet } from "../helpers.js";
import { seedFleet, type SeededFleet } from "../support/dashboard-fleet.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
/** Screenshots are test artefacts (gitignored), for a person to look at after a run. */
const ARTEFACTS = path.resolve(import.meta.dirname, "../../test-artifacts/dashboard");
const AXE = readFileSync(path.resolve(import.meta.dirname, "../../node_modules/axe-core/axe.min.js"), "utf8");
const PAGES = ["/", "/hosts", "/hosts?q=status%3Afailed", "/hosts/db1", "/failures", "/channels", "/channels/stable", "/channels/stable/releases/2", "/vulnerabilities", "/vulnerabilities?by=host", "/migration", "/login"];

if (!hasChromium) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; scripts/install-deps.sh does)`);

/** The dashboard in Debian's Chromium against a real `directory serve` and a real agent (nginx under s6). */
describe.skipIf(!hasChromium)("the dashboard in Chromium", () => {
  const root = tempDir("congruent-dashboard-");
  const adminFile = path.join(root, "admin.token");
  const state = path.join(root, "web1", "state");
  const local = path.join(root, "web1", "local");
  let url = "";
  let server: ChildProcess | undefined;
  let browser: Browser;
  let fleet: SeededFleet;
  let nginxPort = 0;
  const adminToken = () => readFileSync(adminFile, "utf8").trim();
  const env = () => ({ CONGRUENT_DIRECTORY: url, CONGRUENT_TOKEN: adminToken() });
  const manage = () => cli(["manage", "--once", "--json", "--directory", url, "--token-file", path.join(root, "web1.token"), "--name", "web1", "--state", state, "--local", local]);
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTEFACTS, `${name}.png`), fullPage: true });

  async function login(context: BrowserContext, token: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.getByLabel("Admin or viewer token").fill(token);
    await page.getByLabel("Admin or viewer token").press("Enter");
    await page.waitForURL(`${url}/`);
    return page;
  }

  /** axe-core's own copy (node_modules), evaluated in the page: the page's CSP allows no injected script tag. */
  async function axeViolations(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
    await page.evaluate(AXE);
    return page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (o: object) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run({ resultTypes: ["violations"] });
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
    });
  }

  beforeAll(async () => {
    mkdirSync(ARTEFACTS, { recursive: true });
    writeFileSync(adminFile, randomBytes(24).toString("hex"), { mode: 0o600 });
    url = `http://127.0.0.1:${await freePort()}`;
    server = spawn(process.execPath, [CLI, "directory", "serve", "--db", `sqlite:${path.join(root, "directory.db")}`, "--listen", url.slice(7), "--admin-token-file", adminFile, "--log-level", "warn",
      // The long-open page test sends hundreds of reports for one host in seconds.
      "--report-burst", "1000", "--report-rate", "100000"], { stdio: "ignore" });
    for (let i = 0; i < 200 && !(await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
    fleet = await seedFleet(url, adminToken());
    // web1 runs a real agent; its first run fails on a broken snippet (nginx -t refuses it).
    nginxPort = await freePort();
    await cliJson(["host", "add", "web1", "--rg", "acme", "--role", "webgateway", "--channel", "stable", "--token-out", path.join(root, "web1.token")], env());
    writeSnippet(local, "nginx", "site.conf", `${vhost(nginxPort, "web1")}\nno_such_directive on;\n`);
    const failed = await manage();
    expect(JSON.parse(failed.stdout).report.result, failed.stderr).toBe("failed");
    const { chromium } = await import("playwright-core");
    // launch() gives every run a fresh temporary profile (Playwright's own --user-data-dir).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await cli(["down", "--state", state]);
    if (server?.pid) {
      const exited = new Promise((r) => server!.once("exit", r));
      process.kill(server.pid, "SIGTERM");
      await exited;
    }
  });

  it("logs in with the admin token and shows the fleet's counts, each linking to its filtered list", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await login(context, adminToken());
    await expect(page.locator("h1").innerText()).resolves.toBe("Fleet overview");
    const failed = page.locator('a.count-failed');
    expect(await failed.locator(".n").innerText()).toBe("4");
    expect(await failed.innerText()).toContain("failed");
    await failed.click();
    await page.waitForURL(/\/hosts\?q=status%3Afailed$/);
    expect(await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-host")))).toEqual(["cache1", "db2", "db3", "web1"]);
    await page.goto(`${url}/`);
    await shot(page, "overview");
    await context.close();
  });

  it("shows a host turn from failed to ok after its agent runs, live, without a reload", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const hostPage = await login(context, adminToken());
    await hostPage.goto(`${url}/hosts/web1`);
    const listPage = await context.newPage();
    await listPage.goto(`${url}/hosts?q=status%3Afailed`);
    for (const p of [hostPage, listPage]) {
      await p.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
      await p.locator("#live-state", { hasText: /^live$/ }).waitFor();
    }
    expect(await listPage.locator('tr[data-host="web1"] .status').innerText()).toContain("failed");
    expect(await hostPage.locator("#run-list > li").first().innerText()).toContain("failed");

    writeSnippet(local, "nginx", "site.conf", vhost(nginxPort, "web1"));
    const fixed = await manage();
    expect(JSON.parse(fixed.stdout).report.result, fixed.stderr).toBe("switched");
    const start = Date.now();
    await listPage.locator('tr[data-host="web1"] .status', { hasText: "ok" }).waitFor({ timeout: 5000 });
    const listMs = Date.now() - start;
    await hostPage.locator("#run-list > li").first().filter({ hasText: "switched" }).waitFor({ timeout: 5000 });
    await hostPage.locator("#host-summary .status", { hasText: "ok" }).first().waitFor({ timeout: 5000 });
    // Within 2 s of the report reaching the directory (manage returned after posting it).
    expect(listMs).toBeLessThan(2000);
    // The filter no longer matches web1: the page says so rather than moving rows under the reader.
    expect(await listPage.locator("#view-changed").isVisible()).toBe(true);
    for (const p of [hostPage, listPage]) expect(await p.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    await shot(hostPage, "host-live");
    await context.close();
  });

  it("filters with the query language (keyboard only) and exports exactly the filtered view", async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await login(context, adminToken());
    await page.goto(`${url}/hosts`);
    await page.keyboard.press("Tab"); // skip link
    await page.locator("#q").focus();
    await page.keyboard.type("role:postgresql15 status:failed");
    await page.keyboard.press("Enter");
    await page.waitForURL(/q=role%3Apostgresql15\+status%3Afailed/);
    const shown = await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-host")));
    expect(shown).toEqual(["db2", "db3"]);
    // Sorting is a link that keeps the filter.
    await page.locator("thead").getByRole("link", { name: "Host", exact: true }).click();
    await page.waitForURL(/desc=1/);
    expect(await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-host")))).toEqual(["db3", "db2"]);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "CSV" }).click()]);
    const csv = readFileSync((await download.path())!, "utf8").trim().split("\r\n");
    expect(csv[0]).toBe("name,status,lastResult,resourceGroup,roles,channel,release,lastReportRelease,targetRelease,cves,lastReportAt");
    expect(csv.slice(1).map((l) => l.split(",")[0])).toEqual(["db3", "db2"]);
    const json = await (await page.request.get(`${url}/hosts.json${new URL(page.url()).search}`)).json();
    expect(json.hosts.map((h: { name: string }) => h.name)).toEqual(["db3", "db2"]);
    await shot(page, "hosts-filtered");
    await context.close();
  });

  it("halts and resumes a rollout from the channel page; a canary waiting for its window holds it until an admin continues", async () => {
    await cliJson(["channel", "promote", "stable", "2"], env());
    const context = await browser.newContext();
    const page = await login(context, adminToken());
    await page.goto(`${url}/channels/stable/releases/2`);
    expect(await page.locator("main").innerText()).toContain("work_mem");
    await page.goto(`${url}/channels/stable`);
    await page.getByRole("button", { name: "Pause the rollout" }).click();
    await page.waitForURL(/done=pause/);
    expect(await page.locator(".rollout-state").innerText()).toContain("paused by an admin");
    const paused = await cliJson<{ rollout: { state: string; paused?: object } }>(["channel", "status", "stable"], env());
    expect(paused.rollout).toMatchObject({ state: "halted", paused: { by: "admin" } });
    await shot(page, "channel-paused");
    await page.getByRole("button", { name: "Resume the rollout" }).click();
    await page.waitForURL(/done=resume/);
    expect(await page.locator(".rollout-state").innerText()).toContain("canaries running it");
    const resumed = await cliJson<{ rollout: { state: string; canaryHosts: string[] } }>(["channel", "status", "stable"], env());
    expect(resumed.rollout.state).toBe("canary");
    // A canary defers its restart to its window: the rollout waits for it, and says so.
    const canary = resumed.rollout.canaryHosts[0]!;
    const token = fleet.tokens[canary] ?? readFileSync(path.join(root, `${canary}.token`), "utf8").trim();
    const at = new Date().toISOString();
    const deferred = { generation: null, release: { channel: "stable", number: 2 }, result: "deferred", deferred: [{ service: "postgresql", action: "restart", why: ["shared_buffers: 128MB → 1GB (restart)"] }], startedAt: at, finishedAt: at };
    expect((await fetch(`${url}/v1/hosts/${canary}/reports`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(deferred) })).status).toBe(201);
    await page.reload();
    expect(await page.locator(".rollout-state").innerText()).toContain("waiting for a canary's window");
    expect(await page.locator("main").innerText()).toContain("waiting for a window");
    await page.getByRole("button", { name: "Continue without waiting for the canaries" }).click();
    await page.waitForURL(/done=continue/);
    expect(await page.locator(".rollout-state").innerText()).toContain("complete");
    expect(await page.locator("main").innerText()).toContain("Continued by an admin");
    expect((await cliJson<{ rollout: { state: string; forcedAt?: string } }>(["channel", "status", "stable"], env())).rollout).toMatchObject({ state: "complete", forcedAt: expect.any(String) });
    await context.close();
  });

  it("a viewer sees no write control, and a write it forges is refused", async () => {
    const viewer = await cliJson<{ token: string }>(["token", "add", "--viewer", "--name", "noc"], env());
    const context = await browser.newContext();
    const page = await login(context, viewer.token);
    expect(await page.locator(".role").innerText()).toBe("noc (viewer)");
    for (const at of ["/channels/stable", "/channels/stable/releases/2"]) {
      await page.goto(`${url}${at}`);
      expect(await page.locator("main form[method=post]").count()).toBe(0);
    }
    const before = await cliJson<{ rollout: { state: string } }>(["channel", "status", "stable"], env());
    const status = await page.evaluate(async () => {
      const csrf = (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value;
      const r = await fetch("/channels/stable/pause", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `_csrf=${encodeURIComponent(csrf)}` });
      return r.status;
    });
    expect(status).toBe(403);
    expect(await cliJson(["channel", "status", "stable"], env())).toMatchObject({ rollout: { state: before.rollout.state } });
    await context.close();
  });

  it("axe-core finds no serious or critical violation on any page", async () => {
    const context = await browser.newContext();
    const page = await login(context, adminToken());
    const found: Record<string, unknown> = {};
    for (const at of PAGES) {
      await page.goto(`${url}${at}`);
      const v = await axeViolations(page);
      if (v.length) found[at] = v;
    }
    expect(found).toEqual({});
    await context.close();
  });

  it("is used with the keyboard alone: skip link first, focus always visible", async () => {
    const context = await browser.newContext();
    const page = await login(context, adminToken());
    await page.goto(`${url}/hosts`);
    await page.keyboard.press("Tab");
    const first = await page.evaluate(() => ({ text: document.activeElement?.textContent, outline: getComputedStyle(document.activeElement!).outlineStyle }));
    expect(first).toEqual({ text: "Skip to content", outline: "solid" });
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    // Every focusable control shows where the focus is.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), `tab stop ${i}`).toBe("solid");
    }
    await context.close();
  });

  it("reads with JavaScript off: login, list and host page are complete", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await login(context, adminToken());
    await page.goto(`${url}/hosts/db1`);
    expect(await page.locator("#run-list > li").count()).toBeGreaterThan(0);
    expect(await page.locator("main").innerText()).toContain("shared_buffers: 128MB → 1GB (restart)");
    expect(await page.locator("#live").isVisible()).toBe(false);
    await context.close();
  });

  it("a page left open through many updates stays light: bounded DOM, no listener piling up", async () => {
    const context = await browser.newContext();
    const page = await login(context, adminToken());
    await page.goto(`${url}/hosts/web2`);
    await page.locator("#live-state", { hasText: /^live$/ }).waitFor();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable");
    const metrics = async () => Object.fromEntries(((await cdp.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]));
    // Nodes counts what the garbage collector has not taken yet: collect before each reading.
    const collected = async () => (await cdp.send("HeapProfiler.collectGarbage"), metrics());
    const at = new Date().toISOString();
    const post = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await fetch(`${url}/v1/hosts/web2/reports`, {
          method: "POST",
          headers: { authorization: `Bearer ${fleet.tokens.web2}`, "content-type": "application/json" },
          body: JSON.stringify({ generation: null, release: { channel: "stable", number: 1 }, result: "switched", plan: [{ service: "nginx", action: "reload", why: [`worker_connections: ${i} → ${i + 1} (reload)`] }], startedAt: at, finishedAt: at }),
        });
      }
      await page.locator("#run-list > li").first().filter({ hasText: `worker_connections: ${to - 1} → ${to}` }).waitFor({ timeout: 10_000 });
    };
    // The run list fills up to its cap, then stays there however many more come.
    await post(0, 60);
    await page.waitForTimeout(500);
    const before = await collected();
    await post(60, 360);
    await page.waitForTimeout(500);
    expect(await page.locator("#run-list > li").count()).toBe(50);
    const after = await collected();
    expect(Math.abs(after.Nodes! - before.Nodes!)).toBeLessThan(300);
    expect(after.JSEventListeners).toBeLessThanOrEqual(before.JSEventListeners! + 5);
    await context.close();
  });
});
