import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetReport } from "../../src/migrate/report.js";
import { CLI, cli, freePort, tempDir } from "../helpers.js";
import { writeLegacyHost, type LegacyHostInfo } from "../support/legacy-host.js";

// The fleet-wide migration report in the directory: the built CLI against a real
// `congruent directory serve` (SQLite in a temp dir) on a loopback port.
describe("migrate inventory --upload and migrate report --directory", () => {
  let work: string;
  let url: string;
  let adminFile: string;
  let server: ChildProcess | undefined;
  let hosts: LegacyHostInfo[];
  const inv = (h: string) => path.join(work, "inv", `${h}.json`);
  const admin = () => ({ authorization: `Bearer ${readFileSync(adminFile, "utf8").trim()}` });
  /** The report without what differs by where it was built: when, and the inventories' location. */
  const comparable = (r: FleetReport) => ({ ...r, generatedAt: undefined, hosts: r.hosts.map((h) => ({ ...h, file: undefined })) });

  beforeAll(async () => {
    work = tempDir("migrate-directory-");
    hosts = [
      writeLegacyHost(tempDir("legacy-web17-"), { hostname: "web17" }),
      writeLegacyHost(tempDir("legacy-db3-"), { hostname: "db3", services: { nginx: false, php: false, memcached: false } }),
    ];
    adminFile = path.join(work, "admin.token");
    writeFileSync(adminFile, "admin-token-for-the-migrate-e2e-test\n", { mode: 0o600 });
    url = `http://127.0.0.1:${await freePort()}`;
    const env = { ...process.env };
    delete env.CONGRUENT_ADMIN_TOKEN;
    server = spawn(process.execPath, [CLI, "directory", "serve", "--db", `sqlite:${work}/db/directory.db`, "--listen", url.replace("http://", ""), "--admin-token-file", adminFile, "--log-level", "warn"], { env, stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      if (await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    if (!server?.pid || server.exitCode !== null) return;
    const exited = new Promise((r) => server!.once("exit", r));
    process.kill(server.pid, "SIGTERM");
    await exited;
  });

  it("uploads each host's inventory and still prints and writes it as before", async () => {
    const [web17, db3] = hosts as [LegacyHostInfo, LegacyHostInfo];
    // --directory and --token-file on the command line ...
    const a = await cli(["migrate", "inventory", "--root", web17.root, "--out", inv("web17"), "--json", "--upload", "--directory", url, "--token-file", adminFile], { CONGRUENT_TOKEN: "" });
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(readFileSync(inv("web17"), "utf8")));
    expect(a.stderr).toContain(`congruent migrate: inventory of web17 uploaded to ${url}`);
    // ... or from the environment, as the directory commands take them.
    const b = await cli(["migrate", "inventory", "--root", db3.root, "--out", inv("db3"), "--upload"], { CONGRUENT_DIRECTORY: url, CONGRUENT_TOKEN: readFileSync(adminFile, "utf8").trim() });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^db3 \(.*\): \d+ items: \d+ congruent/);

    const list = (await (await fetch(`${url}/v1/migrate/inventories`, { headers: admin() })).json()) as { host: string; summary: { items: number } }[];
    expect(list.map((i) => [i.host, i.summary.items])).toEqual([
      ["db3", JSON.parse(readFileSync(inv("db3"), "utf8")).summary.items],
      ["web17", JSON.parse(readFileSync(inv("web17"), "utf8")).summary.items],
    ]);
  });

  it("report --directory gives the same numbers as report --inventories on the same files", async () => {
    const fromFiles = await cli(["migrate", "report", "--inventories", path.join(work, "inv"), "--json"]);
    const fromDirectory = await cli(["migrate", "report", "--directory", url, "--token-file", adminFile, "--json"]);
    expect(fromDirectory.code, fromDirectory.stderr).toBe(0);
    const files = JSON.parse(fromFiles.stdout) as FleetReport;
    const directory = JSON.parse(fromDirectory.stdout) as FleetReport;
    expect(directory.hosts.map((h) => h.host).sort()).toEqual(["db3", "web17"]);
    expect(directory.totals.items).toBeGreaterThan(0);
    expect(comparable(directory)).toEqual(comparable(files));
    expect(directory.hosts.map((h) => h.file).sort()).toEqual(["/v1/migrate/inventories/db3", "/v1/migrate/inventories/web17"]);

    const text = await cli(["migrate", "report", "--directory", url], { CONGRUENT_TOKEN: readFileSync(adminFile, "utf8").trim() });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^2 hosts, \d+ ready; items \d+% congruent/);
  });

  it("the HTML page: from the API with ?format=html, and written by report --directory --html", async () => {
    const res = await fetch(`${url}/v1/migrate/report?format=html`, { headers: admin() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const page = await res.text();
    expect(page).toMatch(/^<!doctype html>/i);
    for (const h of ["web17", "db3"]) expect(page).toContain(`data-host="${h}"`);
    expect(page).not.toMatch(/<script|https?:\/\//i);

    const file = path.join(work, "reports", "fleet.html");
    const r = await cli(["migrate", "report", "--directory", url, "--token-file", adminFile, "--html", file]);
    expect(r.code, r.stderr).toBe(0);
    const written = readFileSync(file, "utf8");
    for (const h of ["web17", "db3"]) expect(written).toContain(`data-host="${h}"`);
  });

  it("admin token only: a host token gets 403, no token 401, through the API and the CLI", async () => {
    const tokenOut = path.join(work, "web17.token");
    const opts = ["--directory", url, "--token-file", adminFile];
    expect((await cli(["rg", "add", "acme", ...opts])).code).toBe(0);
    const added = await cli(["host", "add", "web17", "--rg", "acme", "--token-out", tokenOut, ...opts]);
    expect(added.code, added.stderr).toBe(0);
    const host = { authorization: `Bearer ${readFileSync(tokenOut, "utf8").trim()}` };
    const body = readFileSync(inv("web17"), "utf8");
    const put = (headers: Record<string, string>) => fetch(`${url}/v1/migrate/inventories/web17`, { method: "PUT", headers: { ...headers, "content-type": "application/json" }, body });
    for (const [headers, status] of [[host, 403], [{}, 401]] as const) {
      expect((await put(headers)).status).toBe(status);
      expect((await fetch(`${url}/v1/migrate/inventories`, { headers })).status).toBe(status);
      expect((await fetch(`${url}/v1/migrate/report`, { headers })).status).toBe(status);
      expect((await fetch(`${url}/v1/migrate/report?format=html`, { headers })).status).toBe(status);
    }
    const refused = await cli(["migrate", "report", "--directory", url, "--token-file", tokenOut]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`GET ${url}/v1/migrate/report: HTTP 403`);
    const upload = await cli(["migrate", "inventory", "--root", hosts[0]!.root, "--upload", "--directory", url, "--token-file", tokenOut, "--json"]);
    expect(upload.code).toBe(1);
    expect(upload.stderr).toContain(`PUT ${url}/v1/migrate/inventories/web17: HTTP 403`);
  });

  it("a body that is no inventory is 400 naming the field; nothing is stored", async () => {
    const good = JSON.parse(readFileSync(inv("web17"), "utf8"));
    const put = async (name: string, value: unknown) => {
      const res = await fetch(`${url}/v1/migrate/inventories/${name}`, { method: "PUT", headers: { ...admin(), "content-type": "application/json" }, body: JSON.stringify(value) });
      return { status: res.status, body: (await res.json()) as { error: string; field?: string; code: string } };
    };
    const noSummary = await put("web18", { ...good, host: "web18", summary: undefined });
    expect(noSummary).toMatchObject({ status: 400, body: { field: "summary", code: "E_DIRECTORY_INVALID" } });
    expect(noSummary.body.error).toMatch(/^summary: /);
    expect((await put("web18", { ...good, host: "web18", facts: { ...good.facts, packages: [{ atom: 1 }] } })).body.field).toBe("facts.packages.0.atom");
    expect((await put("web18", good)).body.field).toBe("host");
    const list = (await (await fetch(`${url}/v1/migrate/inventories`, { headers: admin() })).json()) as { host: string }[];
    expect(list.map((i) => i.host)).toEqual(["db3", "web17"]);
  });

  it("report takes exactly one of --inventories and --directory (E_USAGE otherwise)", async () => {
    const neither = await cli(["migrate", "report", "--json"]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toContain("give exactly one of --inventories DIR");
    const both = await cli(["migrate", "report", "--inventories", path.join(work, "inv"), "--directory", url]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("give exactly one of --inventories DIR");
    const stray = await cli(["migrate", "inventory", "--root", hosts[0]!.root, "--directory", url]);
    expect(stray.code).toBe(1);
    expect(stray.stderr).toContain("--directory, --token-file and --ca go with --upload");
  });
});
