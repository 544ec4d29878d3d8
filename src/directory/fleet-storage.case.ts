import { expect } from "vitest";
import type { Inventory } from "../migrate/types.js";
import type { Host, Report } from "./api.js";
import type { HostQuery } from "./fleet-storage.js";
import type { Storage } from "./storage.js";

const T0 = "2025-01-01T00:00:00.000Z";
const at = (minute: number) => new Date(Date.parse(T0) + minute * 60_000).toISOString();
const host = (name: string, extra: Partial<Host> = {}): Host => ({ name, resourceGroup: "acme", roles: ["webgateway"], parameters: {}, settings: {}, createdAt: T0, updatedAt: T0, ...extra });
const report = (result: Report["result"], extra: Partial<Report> = {}): Report => ({
  generation: null,
  release: { channel: "stable", number: 1 },
  result,
  plan: [],
  deferred: [],
  durations: {},
  services: [],
  warnings: [],
  startedAt: T0,
  finishedAt: T0,
  ...extra,
});
const query = (where: HostQuery["where"], extra: Partial<HostQuery> = {}): HostQuery => ({ where, sort: "name", desc: false, limit: 50, offset: 0, staleBefore: at(30), ...extra });

/**
 * The dashboard's part of the storage contract (`storage.fleet`, `storage.viewers`), run by
 * {@link runStorageConformance} against every variant.
 */
export function fleetConformance(test: (title: string, fn: () => Promise<void>) => void, db: () => Storage): void {
  /** web1 ok on stable#2, db1 failed, db2 deferred and stale, new1 never reported, web2 no channel. */
  async function fleet(s: Storage): Promise<void> {
    await s.createHost(host("web1", { channel: "stable" }), "t1");
    await s.createHost(host("web2", { roles: ["webgateway", "redis"] }), "t2");
    await s.createHost(host("db1", { roles: ["postgresql15"], channel: "stable", resourceGroup: "beta" }), "t3");
    await s.createHost(host("db2", { roles: ["postgresql15"], channel: "stable", maintenanceWindow: { schedule: "Sun 02:00-04:00", timezone: "UTC" } }), "t4");
    await s.createHost(host("new1", { channel: "beta" }), "t5");
    await s.addReport("web1", report("switched", { release: { channel: "stable", number: 2 }, vulnerabilities: { total: 3, whitelisted: 0 } }), at(40));
    await s.addReport("web2", report("unchanged", { release: null, vulnerabilities: { total: 0, whitelisted: 1 } }), at(41));
    await s.addReport("db1", report("failed", { error: "nginx -t: /etc/local/nginx/a.conf:3: bad" }), at(42));
    await s.addReport("db2", report("deferred"), at(10));
  }

  test("fleet: hosts filtered, sorted and paged in the database", async () => {
    const s = db();
    await s.createResourceGroup({ name: "beta", createdAt: T0 });
    await fleet(s);
    const names = async (where: HostQuery["where"], extra: Partial<HostQuery> = {}) => (await s.fleet.queryHosts(query(where, extra))).hosts.map((h) => h.name);
    expect(await names([])).toEqual(["db1", "db2", "new1", "web1", "web2"]);
    expect(await names([{ field: "status", op: "eq", value: "failed" }])).toEqual(["db1"]);
    expect(await names([{ field: "status", op: "eq", value: "stale" }])).toEqual(["db2"]);
    expect(await names([{ field: "status", op: "eq", value: "never" }])).toEqual(["new1"]);
    expect(await names([{ field: "status", op: "eq", value: "ok" }])).toEqual(["web1", "web2"]);
    expect(await names([{ field: "role", op: "eq", value: "postgresql15" }])).toEqual(["db1", "db2"]);
    expect(await names([{ field: "role", op: "eq", value: "redis" }])).toEqual(["web2"]);
    expect(await names([{ field: "role", op: "eq", value: "webgateway" }, { field: "channel", op: "eq", value: "stable" }])).toEqual(["web1"]);
    expect(await names([{ field: "channel", op: "eq", value: "stable", negate: true }])).toEqual(["new1", "web2"]);
    expect(await names([{ field: "rg", op: "eq", value: "beta" }])).toEqual(["db1"]);
    expect(await names([{ field: "cve", op: "gt", value: 0 }])).toEqual(["web1"]);
    expect(await names([{ field: "cve", op: "eq", value: 0 }])).toEqual(["web2"]);
    expect(await names([{ field: "release", op: "ge", value: 2 }])).toEqual(["web1"]);
    expect(await names([{ field: "name", op: "contains", value: "b" }])).toEqual(["db1", "db2", "web1", "web2"]);
    expect(await names([{ field: "name", op: "contains", value: "%" }])).toEqual([]);
    expect(await names([{ field: "name", op: "eq", value: "web1" }])).toEqual(["web1"]);
    expect(await names([{ field: "result", op: "eq", value: "deferred" }])).toEqual(["db2"]);

    expect(await names([], { sort: "name", desc: true })).toEqual(["web2", "web1", "new1", "db2", "db1"]);
    // Worst first; within a status by name.
    expect(await names([], { sort: "status" })).toEqual(["db1", "db2", "new1", "web1", "web2"]);
    expect(await names([], { sort: "last", desc: true })).toEqual(["db1", "web2", "web1", "db2", "new1"]);
    expect(await names([], { sort: "cve", desc: true })).toEqual(["web1", "web2", "db1", "db2", "new1"]);
    const page = await s.fleet.queryHosts(query([], { limit: 2, offset: 2 }));
    expect(page.total).toBe(5);
    expect(page.hosts.map((h) => h.name)).toEqual(["new1", "web1"]);
    expect(page.hosts[1]).toEqual({
      name: "web1",
      resourceGroup: "acme",
      roles: ["webgateway"],
      channel: "stable",
      maintenanceWindow: null,
      status: "ok",
      lastResult: "switched",
      lastReportAt: at(40),
      lastRelease: { channel: "stable", number: 2 },
      runningRelease: { channel: "stable", number: 2 },
      cves: 3,
    });
    expect((await s.fleet.queryHosts(query([{ field: "name", op: "eq", value: "db2" }]))).hosts[0]!.maintenanceWindow).toEqual({ schedule: "Sun 02:00-04:00", timezone: "UTC" });

    const facets = await s.fleet.hostFacets(at(30));
    const count = (status: string) => facets.filter((f) => f.status === status).reduce((n, f) => n + f.hosts, 0);
    expect([count("ok"), count("failed"), count("deferred"), count("stale"), count("never")]).toEqual([2, 1, 0, 1, 1]);
    expect(facets.find((f) => f.channel === "stable" && f.release === 2)).toEqual({ status: "ok", channel: "stable", release: 2, hosts: 1 });
  });

  test("fleet: reports after an id, one by id", async () => {
    const s = db();
    expect(await s.fleet.latestReportId()).toBe(0);
    await s.createHost(host("web1"), "t1");
    await s.createHost(host("web2"), "t2");
    const a = await s.addReport("web1", report("switched"), at(1));
    const b = await s.addReport("web2", report("failed", { error: "x" }), at(2));
    const c = await s.addReport("web1", report("unchanged"), at(3));
    expect(await s.fleet.latestReportId()).toBe(c!.id);
    expect((await s.fleet.reportsAfter(a!.id, 10)).map((r) => [r.host, r.result])).toEqual([["web2", "failed"], ["web1", "unchanged"]]);
    expect(await s.fleet.reportsAfter(a!.id, 1)).toHaveLength(1);
    expect(await s.fleet.getReport("web1", c!.id)).toEqual(c);
    expect(await s.fleet.getReport("web1", b!.id)).toBeNull();
  });

  test("fleet: failures grouped by error signature across hosts", async () => {
    const s = db();
    for (const h of ["web1", "web2", "web3"]) await s.createHost(host(h), `t-${h}`);
    await s.addReport("web1", report("failed", { error: "nginx -t: unknown directive in /etc/local/nginx/web1.conf:12" }), at(1));
    await s.addReport("web2", report("failed", { error: "nginx -t: unknown directive in /etc/local/nginx/shop.conf:3" }), at(2));
    await s.addReport("web1", report("failed", { error: "nginx -t: unknown directive in /etc/local/nginx/web1.conf:13" }), at(3));
    await s.addReport("web3", report("timeout"), at(4));
    await s.addReport("web3", report("switched"), at(5));
    const groups = await s.fleet.failureGroups(10);
    expect(groups.map((g) => [g.signature, g.firstSeen, g.lastSeen, g.hosts.map((h) => [h.host, h.reports])])).toEqual([
      ["timeout", at(4), at(4), [["web3", 1]]],
      ["nginx -t: unknown directive in <path>:<n>", at(1), at(3), [["web1", 2], ["web2", 1]]],
    ]);
    expect(groups[1]!.example).toBe("nginx -t: unknown directive in /etc/local/nginx/web1.conf:13");
    expect(groups[0]!.example).toBe("timeout");
    expect(await s.fleet.failureGroups(1)).toHaveLength(1);
  });

  test("fleet: CVEs by CVE and by host, replaced by each report that lists findings", async () => {
    const s = db();
    for (const h of ["web1", "web2"]) await s.createHost(host(h), `t-${h}`);
    const findings = (list: [string, number | null, string][]) => ({ total: list.length, whitelisted: 0, findings: list.map(([cve, score, pkg]) => ({ cve, score, package: pkg })) });
    await s.addReport("web1", report("switched", { vulnerabilities: findings([["CVE-2024-1", 9.8, "openssl-3.0.1"], ["CVE-2024-2", null, "zlib-1.2"], ["CVE-2024-1", 9.8, "openssl-3.0.1"]]) }), at(1));
    await s.addReport("web2", report("switched", { vulnerabilities: findings([["CVE-2024-1", 9.8, "libssl-3"], ["CVE-2024-3", 5, "nginx-1.22"]]) }), at(2));
    expect(await s.fleet.listCves()).toEqual([
      { cve: "CVE-2024-1", score: 9.8, hosts: 2, packages: ["libssl-3", "openssl-3.0.1"] },
      { cve: "CVE-2024-3", score: 5, hosts: 1, packages: ["nginx-1.22"] },
      { cve: "CVE-2024-2", score: null, hosts: 1, packages: ["zlib-1.2"] },
    ]);
    expect(await s.fleet.cvesOfHost("web1")).toEqual([
      { cve: "CVE-2024-1", score: 9.8, packages: ["openssl-3.0.1"] },
      { cve: "CVE-2024-2", score: null, packages: ["zlib-1.2"] },
    ]);
    expect((await s.fleet.queryHosts(query([{ field: "cveId", op: "eq", value: "CVE-2024-1" }]))).hosts.map((h) => h.name)).toEqual(["web1", "web2"]);
    // The findings are kept once per host, not in every stored report.
    expect((await s.listReports("web1", 1))[0]!.vulnerabilities).toEqual({ total: 3, whitelisted: 0 });
    // Counts only (an older agent): the findings stay; an empty list clears them.
    await s.addReport("web1", report("unchanged", { vulnerabilities: { total: 2, whitelisted: 0 } }), at(3));
    expect(await s.fleet.cvesOfHost("web1")).toHaveLength(2);
    await s.addReport("web1", report("switched", { vulnerabilities: findings([]) }), at(4));
    expect(await s.fleet.cvesOfHost("web1")).toEqual([]);
    await s.deleteHost("web2");
    expect(await s.fleet.listCves()).toEqual([]);
  });

  test("fleet: every inventory's summary is kept in order (the migration's progress)", async () => {
    const s = db();
    const inv = (h: string, ready: boolean) => ({ format: "congruent-migrate-inventory/1", host: h, root: "/", generatedAt: T0, facts: {}, items: [], blockers: [], summary: { items: 4, congruent: ready ? 4 : 1, convergent: 0, divergent: ready ? 0 : 3, dataBytes: 0, blockers: ready ? 0 : 1, ready }, problems: [] }) as unknown as Inventory;
    await s.putInventory("old1", inv("old1", false), at(1));
    await s.putInventory("old2", inv("old2", false), at(2));
    await s.putInventory("old1", inv("old1", true), at(3));
    expect((await s.fleet.inventoryHistory()).map((h) => [h.host, h.receivedAt, h.summary.ready])).toEqual([
      ["old1", at(1), false],
      ["old2", at(2), false],
      ["old1", at(3), true],
    ]);
    expect((await s.listInventories()).map((i) => i.summary.ready)).toEqual([true, false]);
  });

  test("viewer tokens: create, list, look up by hash, remove by id or name", async () => {
    const s = db();
    const alice = { id: "vt-1111", name: "alice", createdAt: T0 };
    expect(await s.viewers.create(alice, "hash-a")).toEqual(alice);
    await s.viewers.create({ id: "vt-2222", name: "bob", createdAt: T0 }, "hash-b");
    await expect(s.viewers.create({ id: "vt-3333", name: "alice", createdAt: T0 }, "hash-c")).rejects.toMatchObject({ code: "E_DIRECTORY_CONFLICT" });
    expect((await s.viewers.list()).map((t) => t.name)).toEqual(["alice", "bob"]);
    expect(await s.viewers.byTokenHash("hash-a")).toEqual(alice);
    expect(await s.viewers.byTokenHash("nope")).toBeNull();
    expect(await s.viewers.get("vt-2222")).toMatchObject({ name: "bob" });
    expect(await s.viewers.remove("alice")).toBe(true);
    expect(await s.viewers.remove("vt-2222")).toBe(true);
    expect(await s.viewers.remove("vt-2222")).toBe(false);
    expect(await s.viewers.list()).toEqual([]);
    // Host tokens are not viewer tokens.
    await s.createHost(host("web1"), "hash-h");
    expect(await s.viewers.byTokenHash("hash-h")).toBeNull();
  });
}
