import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Inventory } from "../migrate/types.js";
import type { Host, Report, StoredReport } from "./api.js";
import { sha256 } from "./http.js";
import { defaultReportRate } from "./rate-limit.js";
import { buildDirectory } from "./server.js";
import { defaultRetention, type ChannelRecord, type Storage } from "./storage.js";
import { fleetConformance } from "./fleet-storage.case.js";

/** One storage variant under test; `reopen` opens the same database again (migrations rerun). */
export interface StorageUnderTest {
  storage: Storage;
  reopen(): Promise<Storage>;
  cleanup(): Promise<void>;
  /** What the database takes on disk now, in bytes (SQLite: the file and its WAL). */
  size(): Promise<number>;
  /**
   * Whatever the database does by itself soon after deletes (PostgreSQL: the vacuum autovacuum
   * runs within its naptime, a minute), so that what `size` says next is what stays.
   */
  settle?(): Promise<void>;
}

export interface StorageConformanceOptions {
  name: string;
  create(): Promise<StorageUnderTest>;
  /** A variant may skip a test only by naming it and saying why. */
  skip?: { reason: string; tests: string[] }[];
}

const T0 = "2025-01-01T00:00:00.000Z";
const host = (name: string, extra: Partial<Host> = {}): Host => ({
  name,
  resourceGroup: "acme",
  roles: ["webgateway"],
  parameters: { fqdn: `${name}.example.net` },
  settings: { nginx: { worker_processes: 2 } },
  createdAt: T0,
  updatedAt: T0,
  ...extra,
});
const channel = (name: string): ChannelRecord => ({ name, canaryShare: 10, createdAt: T0, current: null, previous: null, rolledBack: false, rollout: null });
const report = (result: Report["result"], extra: Partial<Report> = {}): Report => ({
  generation: "/var/lib/congruent/store/abc-system-web1",
  release: { channel: "stable", number: 1 },
  result,
  plan: [],
  deferred: [],
  durations: { build: 1.5 },
  services: [],
  warnings: [],
  startedAt: T0,
  finishedAt: T0,
  ...extra,
});
const conflict = { code: "E_DIRECTORY_CONFLICT" };
const at = (i: number) => new Date(Date.parse("2025-01-01T00:00:00.000Z") + i * 1000).toISOString();
/** 237 KB of plan, incompressible (PostgreSQL's TOAST would shrink a repeated filler to nothing). */
export const floodPlan: Report["plan"] = Array.from({ length: 1000 }, () => ({ service: "nginx", action: "reload" as const, why: [randomBytes(150).toString("base64")] }));

/** A stored report without what storage adds: the body as it was sent. */
const bodyOf = (r: StoredReport): Report => Object.fromEntries(Object.entries(r).filter(([k]) => !["id", "host", "receivedAt"].includes(k))) as Report;
/** A small inventory; `items` stands in for the bulk of a real one (facts, items). */
const inventory = (hostName: string, blockers: Inventory["blockers"], items = 3): Inventory =>
  ({
    format: "congruent-migrate-inventory/1",
    host: hostName,
    root: `/mnt/${hostName}`,
    generatedAt: T0,
    facts: { packages: [], services: [], configs: [], users: [], data: [], nginx: null, postgresql: null, redis: null, memcached: null },
    items: Array.from({ length: items }, (_, i) => ({ kind: "package", id: `app-misc/p${i}`, class: "congruent", reason: "ü ✓ \"quoted\"" })),
    blockers,
    summary: { items, congruent: items, convergent: 0, divergent: 0, dataBytes: 1234, blockers: blockers.length, ready: blockers.length === 0 },
    problems: [],
  }) as unknown as Inventory;

/**
 * The contract of {@link Storage}, run against every variant (SQLite beside the code,
 * PostgreSQL in test/e2e with a real server), so both agree byte for byte on what they keep.
 *
 * @example runStorageConformance({ name: "sqlite", create: async () => ({ storage, reopen, cleanup }) })
 */
export function runStorageConformance(opts: StorageConformanceOptions): void {
  const skipped = new Map(opts.skip?.flatMap((s) => s.tests.map((t) => [t, s.reason] as const)));
  const test = (title: string, fn: () => Promise<void>) =>
    skipped.has(title) ? it.skip(`${title} (skipped: ${skipped.get(title)})`, fn) : it(title, fn);

  describe(`directory storage conformance: ${opts.name}`, () => {
    let s: StorageUnderTest;
    let db: Storage;
    beforeEach(async () => {
      s = await opts.create();
      db = s.storage;
      await db.createResourceGroup({ name: "acme", createdAt: T0 });
    });
    afterEach(async () => s.cleanup());

    fleetConformance(test, () => db);

    test("migrations are recorded and rerunning them changes nothing", async () => {
      expect(db.schemaVersion).toBeGreaterThanOrEqual(1);
      await db.createHost(host("web1"), "h1");
      const again = await s.reopen();
      try {
        expect(again.schemaVersion).toBe(db.schemaVersion);
        expect((await again.getHost("web1"))?.name).toBe("web1");
      } finally {
        await again.close();
      }
    });

    test("resource groups: create, get, list, duplicate", async () => {
      await db.createResourceGroup({ name: "beta", description: "Beta Ltd", createdAt: T0 });
      expect(await db.getResourceGroup("beta")).toEqual({ name: "beta", description: "Beta Ltd", createdAt: T0 });
      expect(await db.getResourceGroup("nope")).toBeNull();
      expect((await db.listResourceGroups()).map((r) => r.name)).toEqual(["acme", "beta"]);
      await expect(db.createResourceGroup({ name: "beta", createdAt: T0 })).rejects.toMatchObject(conflict);
    });

    test("hosts: create, get, list with filters, update, delete", async () => {
      const web1 = host("web1", { channel: "stable", maintenanceWindow: { schedule: "Sun 02:00-04:00", timezone: "Europe/Berlin" } });
      expect(await db.createHost(web1, "h1")).toEqual(web1);
      await db.createHost(host("web2", { resourceGroup: "beta" }), "h2");
      expect(await db.getHost("web1")).toEqual(web1);
      expect(await db.getHost("nope")).toBeNull();
      expect((await db.listHosts()).map((h) => h.name)).toEqual(["web1", "web2"]);
      expect((await db.listHosts({ resourceGroup: "beta" })).map((h) => h.name)).toEqual(["web2"]);
      expect((await db.listHosts({ channel: "stable" })).map((h) => h.name)).toEqual(["web1"]);
      expect(await db.listHosts({ channel: "stable", resourceGroup: "beta" })).toEqual([]);

      const changed = { ...web1, roles: ["db"], settings: {}, channel: undefined, maintenanceWindow: undefined, updatedAt: "2025-02-01T00:00:00.000Z" };
      delete changed.channel;
      delete changed.maintenanceWindow;
      expect(await db.updateHost(changed)).toEqual(changed);
      expect(await db.getHost("web1")).toEqual(changed);
      expect(await db.updateHost(host("nope"))).toBeNull();

      expect(await db.deleteHost("web1")).toBe(true);
      expect(await db.deleteHost("web1")).toBe(false);
      expect(await db.getHost("web1")).toBeNull();
    });

    test("hosts: duplicates are conflicts; createHosts adds many at once", async () => {
      await db.createHost(host("web1"), "h1");
      await expect(db.createHost(host("web1"), "other")).rejects.toMatchObject(conflict);
      await db.createHosts(Array.from({ length: 50 }, (_, i) => ({ host: host(`bulk${i}`), tokenHash: `bulk-hash-${i}` })));
      expect(await db.listHosts()).toHaveLength(51);
      expect(await db.hostByTokenHash("bulk-hash-49")).toBe("bulk49");
    });

    test("token hashes: lookup and rotation", async () => {
      await db.createHost(host("web1"), "hash-a");
      expect(await db.hostByTokenHash("hash-a")).toBe("web1");
      expect(await db.hostByTokenHash("hash-b")).toBeNull();
      expect(await db.setHostTokenHash("web1", "hash-b")).toBe(true);
      expect(await db.hostByTokenHash("hash-a")).toBeNull();
      expect(await db.hostByTokenHash("hash-b")).toBe("web1");
      expect(await db.setHostTokenHash("nope", "hash-c")).toBe(false);
      await db.deleteHost("web1");
      expect(await db.hostByTokenHash("hash-b")).toBeNull();
    });

    test("channels: create, get, list, duplicate, update", async () => {
      await db.createChannel({ ...channel("stable"), description: "production" });
      await db.createChannel(channel("beta"));
      expect(await db.getChannel("stable")).toEqual({ ...channel("stable"), description: "production" });
      expect((await db.listChannels()).map((c) => c.name)).toEqual(["beta", "stable"]);
      await expect(db.createChannel(channel("beta"))).rejects.toMatchObject(conflict);
      expect(await db.getChannel("nope")).toBeNull();

      const rollout = { release: 2, state: "canary" as const, canaryHosts: ["web1"], succeeded: [], failed: [], startedAt: T0 };
      const updated = await db.updateChannel("stable", (c) => ({ ...c, current: 2, previous: 1, rollout }));
      expect(updated).toMatchObject({ current: 2, previous: 1, rollout });
      expect(await db.getChannel("stable")).toEqual(updated);
      expect(await db.updateChannel("stable", () => null)).toEqual(updated);
      expect(await db.updateChannel("nope", (c) => c)).toBeNull();
      await db.updateChannel("stable", (c) => ({ ...c, current: 1, previous: 2, rolledBack: true, rollout: null }));
      expect(await db.getChannel("stable")).toMatchObject({ current: 1, previous: 2, rolledBack: true, rollout: null });
    });

    test("updateChannel: concurrent changes are serialised, none is lost", async () => {
      await db.createChannel({ ...channel("stable"), rollout: { release: 1, state: "canary", canaryHosts: [], succeeded: [], failed: [], startedAt: T0 } });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          db.updateChannel("stable", (c) => ({ ...c, rollout: { ...c.rollout!, succeeded: [...c.rollout!.succeeded, `h${i}`] } })),
        ),
      );
      expect((await db.getChannel("stable"))?.rollout?.succeeded).toHaveLength(20);
    });

    test("releases: immutable, numbered per channel from 1", async () => {
      await db.createChannel(channel("stable"));
      await db.createChannel(channel("beta"));
      const defaults = { webgateway: { nginx: { worker_processes: 4, gzip: true } } };
      const r1 = await db.createRelease("stable", { version: "2025.01", defaults }, T0);
      expect(r1).toEqual({ channel: "stable", number: 1, version: "2025.01", defaults, createdAt: T0 });
      expect((await db.createRelease("stable", { version: "2025.02", defaults: {} }, T0))?.number).toBe(2);
      expect((await db.createRelease("beta", { version: "x", defaults: {} }, T0))?.number).toBe(1);
      expect(await db.createRelease("nope", { version: "x", defaults: {} }, T0)).toBeNull();
      expect(await db.getRelease("stable", 1)).toEqual(r1);
      expect(await db.getRelease("stable", 9)).toBeNull();
      expect((await db.listReleases("stable")).map((r) => r.version)).toEqual(["2025.01", "2025.02"]);
      const parallel = await Promise.all(Array.from({ length: 10 }, (_, i) => db.createRelease("beta", { version: `p${i}`, defaults: {} }, T0)));
      expect(parallel.map((r) => r!.number).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    test("reports: stored newest first, host state follows the last one", async () => {
      await db.createHost(host("web1", { channel: "stable" }), "h1");
      await db.createHost(host("web2"), "h2");
      expect((await db.listHostStates()).find((h) => h.name === "web1")).toEqual({ name: "web1", channel: "stable", lastResult: null, lastReportAt: null, lastRelease: null, runningRelease: null, lastVulnerabilities: null });
      const first = await db.addReport("web1", report("switched"), "2025-01-01T00:00:01.000Z");
      expect(first).toMatchObject({ host: "web1", result: "switched", receivedAt: "2025-01-01T00:00:01.000Z" });
      const deferred = [{ service: "postgresql", action: "restart" as const, why: ["shared_buffers"] }];
      await db.addReport("web1", report("deferred", { deferred, release: { channel: "stable", number: 2 }, error: undefined }), "2025-01-01T00:00:02.000Z");
      const reports = await db.listReports("web1", 10);
      expect(reports.map((r) => r.result)).toEqual(["deferred", "switched"]);
      expect(reports[0]!.deferred).toEqual(deferred);
      expect(reports[0]!.id).toBeGreaterThan(reports[1]!.id);
      expect(await db.listReports("web1", 1)).toHaveLength(1);
      expect(await db.addReport("nope", report("failed"), T0)).toBeNull();
      expect(await db.listHostStates({ channel: "stable" })).toEqual([
        {
          name: "web1",
          channel: "stable",
          lastResult: "deferred",
          lastReportAt: "2025-01-01T00:00:02.000Z",
          lastRelease: { channel: "stable", number: 2 },
          runningRelease: { channel: "stable", number: 2 },
          lastVulnerabilities: null,
        },
      ]);
      // A release the host failed is its last report's, not the one it runs.
      await db.addReport("web1", report("failed", { release: { channel: "stable", number: 3 }, error: "nginx -t" }), "2025-01-01T00:00:02.500Z");
      expect((await db.listHostStates())[0]).toMatchObject({ lastResult: "failed", lastRelease: { number: 3 }, runningRelease: { number: 2 } });
      // vulnscan counts stick until a later report carries new ones.
      await db.addReport("web1", report("switched", { vulnerabilities: { total: 4, whitelisted: 1 } }), "2025-01-01T00:00:03.000Z");
      await db.addReport("web1", report("unchanged"), "2025-01-01T00:00:04.000Z");
      expect((await db.listHostStates())[0]!.lastVulnerabilities).toEqual({ total: 4, whitelisted: 1 });
      await db.deleteHost("web1");
      expect(await db.listReports("web1", 10)).toEqual([]);
    });

    test("migrate inventories: the latest per legacy host, in brief by name, whole on request", async () => {
      expect(await db.listInventories()).toEqual([]);
      expect(await db.getInventory("web17")).toBeNull();
      const php = [{ kind: "no-role", subject: "dev-lang/php", detail: "runs php-fpm" }] as Inventory["blockers"];
      // Legacy hosts need not be directory hosts; names sort bytewise in both variants.
      expect(await db.putInventory("web17", inventory("web17", php), "2025-01-01T00:00:01.000Z")).toEqual({
        host: "web17",
        receivedAt: "2025-01-01T00:00:01.000Z",
        summary: inventory("web17", php).summary,
        blockers: php,
      });
      await db.putInventory("Db3.legacy", inventory("Db3.legacy", []), "2025-01-01T00:00:02.000Z");
      expect((await db.listInventories()).map((i) => i.host)).toEqual(["Db3.legacy", "web17"]);

      // A later inventory replaces the earlier one.
      const later = inventory("web17", [], 5);
      await db.putInventory("web17", later, "2025-01-02T00:00:00.000Z");
      const list = await db.listInventories();
      expect(list).toHaveLength(2);
      expect(list[1]).toEqual({ host: "web17", receivedAt: "2025-01-02T00:00:00.000Z", summary: later.summary, blockers: [] });
      expect(list[0]!.summary).toEqual(inventory("Db3.legacy", []).summary);

      // The whole document comes back as it was put, key order and all.
      const got = await db.getInventory("web17");
      expect(got).toEqual({ host: "web17", receivedAt: "2025-01-02T00:00:00.000Z", inventory: later });
      expect(JSON.stringify(got!.inventory)).toBe(JSON.stringify(later));
      expect(await db.listHosts()).toEqual([]);
    });

    test("migrate inventories: a few MB each, kept whole", async () => {
      const big = inventory("big1", [], 30_000);
      expect(JSON.stringify(big).length).toBeGreaterThan(2_000_000);
      await db.putInventory("big1", big, T0);
      expect((await db.getInventory("big1"))?.inventory.items).toHaveLength(30_000);
      expect((await db.listInventories())[0]!.summary.items).toBe(30_000);
    });

    test("reports page back by id; usage counts them and their bytes", async () => {
      await db.createHost(host("web1"), "h1");
      const ids: number[] = [];
      for (let i = 0; i < 7; i++) ids.push((await db.addReport("web1", report("switched", { error: `r${i}` }), at(i)))!.id);
      const page1 = await db.listReports("web1", 3);
      expect(page1.map((r) => r.error)).toEqual(["r6", "r5", "r4"]);
      const page2 = await db.listReports("web1", 3, page1.at(-1)!.id);
      expect(page2.map((r) => r.error)).toEqual(["r3", "r2", "r1"]);
      expect((await db.listReports("web1", 3, ids[0])).length).toBe(0);
      const usage = await db.reportUsage("web1");
      expect(usage.reports).toBe(7);
      expect(usage.bytes).toBe(page1.concat(page2, await db.listReports("web1", 1, page2.at(-1)!.id)).reduce((n, r) => n + Buffer.byteLength(JSON.stringify(bodyOf(r))), 0));
      expect(await db.reportUsage("nope")).toEqual({ reports: 0, bytes: 0 });
    });

    test("caps: a flood of 400 failed reports of 237 KB each stays within the host's caps and leaves other hosts alone", async () => {
      await db.createHost(host("web1"), "h1");
      await db.createHost(host("web2"), "h2");
      for (let i = 0; i < 10; i++) await db.addReport("web2", report("switched", { error: `web2-${i}` }), at(i), defaultRetention);
      for (let i = 0; i < 5; i++) await db.addReport("web1", report("switched", { error: `real-${i}` }), at(10 + i), defaultRetention);
      const before = await s.size();
      const big = (i: number) => report("failed", { error: `flood-${i}`, plan: floodPlan });
      expect(Buffer.byteLength(JSON.stringify(big(0)))).toBeGreaterThan(237_000);
      const flood = async (from: number, count: number) => {
        for (let i = from; i < from + count; i++) await db.addReport("web1", big(i), at(100 + i), defaultRetention);
        await s.settle?.();
        return s.size();
      };
      const started = performance.now();
      const first = await flood(0, 400);
      const ms = performance.now() - started;
      const usage = await db.reportUsage("web1");
      expect(usage.bytes).toBeLessThanOrEqual(defaultRetention.maxBytes);
      expect(usage.reports).toBeGreaterThan(10);
      // The newest failures are the ones kept, without a hole.
      const kept = await db.listReports("web1", 1000);
      expect(kept.map((r) => r.error)).toEqual(Array.from({ length: usage.reports }, (_, i) => `flood-${399 - i}`));
      expect((await db.listReports("web2", 100)).map((r) => r.error)).toEqual(Array.from({ length: 10 }, (_, i) => `web2-${9 - i}`));
      // Space freed by the caps is reused: 100 more (25 MB) leave the database where the first flood did.
      const second = await flood(400, 100);
      expect(second - first).toBeLessThan(2 * defaultRetention.maxBytes);
      expect((await db.reportUsage("web1")).bytes).toBeLessThanOrEqual(defaultRetention.maxBytes);
      const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
      console.log(
        `[${opts.name}] flood of 400 × ${Math.round(Buffer.byteLength(JSON.stringify(big(0))) / 1000)} KB failed reports in ${Math.round(ms)} ms (no rate limit at this level): ` +
          `database ${mb(before)} → ${mb(first)}, after 100 more ${mb(second)}; web1 keeps ${usage.reports} reports, ${mb(usage.bytes)} (cap ${defaultRetention.maxBytes / 1048576} MiB)`,
      );
    });

    test("the same flood through the API: the rate limit takes a burst, the caps keep the newest, other hosts keep theirs", async () => {
      const ADMIN = "conformance-admin-token-0123456789";
      const app = buildDirectory({ storage: db, adminTokenHash: sha256(ADMIN) });
      try {
        const admin = { authorization: `Bearer ${ADMIN}` };
        const add = async (name: string) => (await app.inject({ method: "POST", url: "/v1/hosts", headers: admin, payload: { name, resourceGroup: "acme" } })).json().token as string;
        const [t1, t2] = [await add("web1"), await add("web2")];
        const post = (name: string, token: string, body: unknown) => app.inject({ method: "POST", url: `/v1/hosts/${name}/reports`, headers: { authorization: `Bearer ${token}` }, payload: body as object });
        for (let i = 0; i < 5; i++) expect((await post("web2", t2, report("switched", { error: `web2-${i}` }))).statusCode).toBe(201);
        const before = await s.size();
        const statuses = new Map<number, number>();
        let retryAfter = "";
        for (let i = 0; i < 400; i++) {
          const r = await post("web1", t1, report("failed", { error: `flood-${i}`, plan: floodPlan }));
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
          if (r.statusCode === 429) retryAfter = String(r.headers["retry-after"]);
        }
        await s.settle?.();
        const after = await s.size();
        expect(Object.fromEntries(statuses)).toEqual({ 201: defaultReportRate.burst, 429: 400 - defaultReportRate.burst });
        expect(Number(retryAfter)).toBeGreaterThan(0);
        const usage = await db.reportUsage("web1");
        expect(usage.bytes).toBeLessThanOrEqual(defaultRetention.maxBytes);
        expect((await db.listReports("web1", 1))[0]!.error).toBe(`flood-${defaultReportRate.burst - 1}`);
        expect((await db.listReports("web2", 100)).map((r) => r.error)).toEqual(["web2-4", "web2-3", "web2-2", "web2-1", "web2-0"]);
        expect(after - before).toBeLessThan(3 * defaultRetention.maxBytes);
        console.log(`[${opts.name}] the flood through the API: ${statuses.get(201)} stored, ${statuses.get(429)} refused (429); database ${(before / 1e6).toFixed(1)} MB → ${(after / 1e6).toFixed(1)} MB`);
      } finally {
        await app.close();
      }
    });

    test("retention: the last N per host, and failures younger than the limit", async () => {
      await db.createHost(host("web1"), "h1");
      await db.createHost(host("web2"), "h2");
      const day = 86_400_000;
      const now = new Date("2025-03-01T00:00:00.000Z");
      const at = (daysAgo: number, i: number) => new Date(now.getTime() - daysAgo * day + i).toISOString();
      // Oldest first: an old failure (60 days), a recent failure (10 days), a timeout (5 days), then 8 successes.
      await db.addReport("web1", report("failed", { error: "old" }), at(60, 0));
      await db.addReport("web1", report("failed", { error: "recent" }), at(10, 0));
      await db.addReport("web1", report("timeout"), at(5, 0));
      for (let i = 0; i < 8; i++) await db.addReport("web1", report("switched"), at(1, i));
      for (let i = 0; i < 3; i++) await db.addReport("web2", report("switched"), at(1, i));

      expect(await db.pruneReports("web1", { keepLast: 5, failureDays: 30 }, now)).toBe(4);
      const kept = await db.listReports("web1", 100);
      expect(kept.map((r) => r.error ?? r.result)).toEqual(["switched", "switched", "switched", "switched", "switched", "timeout", "recent"]);
      expect(await db.listReports("web2", 100)).toHaveLength(3);
      expect(await db.pruneReports("web1", { keepLast: 5, failureDays: 30 }, now)).toBe(0);
      expect(await db.pruneReports("web1", { keepLast: 5, failureDays: 7 }, now)).toBe(1);
      expect(await db.pruneReports("web2", { keepLast: 5, failureDays: 30 }, now)).toBe(0);
    });
  });
}
