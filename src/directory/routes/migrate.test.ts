import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FleetReport } from "../../migrate/report.js";
import type { HostCreated, MigrateInventoryBrief } from "../api.js";
import { sha256 } from "../http.js";
import { buildDirectory } from "../server.js";
import type { Storage } from "../storage.js";
import { openSqliteStorage } from "../storage/sqlite/index.js";

const ADMIN = "admin-secret-token-for-tests";
const admin = { authorization: `Bearer ${ADMIN}` };

let storage: Storage;
let app: FastifyInstance;

beforeEach(async () => {
  storage = openSqliteStorage(":memory:");
  // The default body limit stays small: the inventory route must not depend on it.
  app = buildDirectory({ storage, adminTokenHash: sha256(ADMIN), bodyLimit: 4096, now: () => new Date("2025-05-01T10:00:00.000Z") });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await storage.close();
});

async function call<T = unknown>(method: "GET" | "PUT" | "POST", url: string, payload?: unknown, headers: Record<string, string> = admin) {
  const r = await app.inject({ method, url, headers, ...(payload === undefined ? {} : typeof payload === "string" ? { payload, headers: { ...headers, "content-type": "application/json" } } : { payload: payload as object }) });
  const json = String(r.headers["content-type"] ?? "").startsWith("application/json") && r.body;
  return { status: r.statusCode, body: (json ? JSON.parse(r.body) : undefined) as T, headers: r.headers, raw: r.body };
}

/** The smallest thing `migrate inventory --json` could print; `filler` items make it big. */
function inventory(host: string, opts: { congruent: number; divergent: number; blockers?: string[]; dataBytes?: number; filler?: string }) {
  const items = [
    ...Array.from({ length: opts.congruent }, (_, i) => ({ kind: "package", id: `app-misc/g${i}`, class: "congruent", reason: opts.filler ?? "in a role" })),
    ...Array.from({ length: opts.divergent }, (_, i) => ({ kind: "data", id: `/srv/d${i}`, class: "divergent", reason: "customer data" })),
  ];
  const blockers = (opts.blockers ?? []).map((subject) => ({ kind: "no-role", subject, detail: `${subject} has no role` }));
  return {
    format: "congruent-migrate-inventory/1",
    host,
    root: `/mnt/${host}`,
    generatedAt: "2025-05-01T09:00:00.000Z",
    facts: { packages: [], services: [], configs: [], users: [], data: [], nginx: null, postgresql: null, redis: null, memcached: null, cron: [] },
    items,
    blockers,
    summary: { items: items.length, congruent: opts.congruent, convergent: 0, divergent: opts.divergent, dataBytes: opts.dataBytes ?? 0, blockers: blockers.length, ready: blockers.length === 0 },
    problems: [],
  };
}

describe("directory API: migrate inventories and the fleet report", () => {
  it("a legacy host name up to the schema's limit (253) works in every URL", async () => {
    const long = `${"legacy-host.".repeat(21)}x`;
    expect(long).toHaveLength(253);
    expect((await call("PUT", `/v1/migrate/inventories/${long}`, inventory(long, { congruent: 1, divergent: 0 }))).status).toBe(200);
    expect((await call<{ host: string }>("GET", `/v1/migrate/inventories/${long}`)).body.host).toBe(long);
    const tooLong = await call<{ field: string }>("PUT", `/v1/migrate/inventories/${long}y`, inventory(`${long}y`, { congruent: 1, divergent: 0 }));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.field).toBe("host");
  });

  it("keeps the latest inventory per legacy host and builds the fleet report from them", async () => {
    const web17 = inventory("web17", { congruent: 6, divergent: 2, blockers: ["dev-lang/php"], dataBytes: 2048 });
    const put = await call<MigrateInventoryBrief>("PUT", "/v1/migrate/inventories/web17", web17);
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ host: "web17", receivedAt: "2025-05-01T10:00:00.000Z", summary: web17.summary });
    expect((await call("PUT", "/v1/migrate/inventories/db3.legacy", inventory("db3.legacy", { congruent: 1, divergent: 0 }))).status).toBe(200);
    // A second upload replaces the first.
    expect((await call("PUT", "/v1/migrate/inventories/db3.legacy", inventory("db3.legacy", { congruent: 3, divergent: 1, dataBytes: 100 }))).status).toBe(200);

    const list = await call<MigrateInventoryBrief[]>("GET", "/v1/migrate/inventories");
    expect(list.body.map((i) => [i.host, i.summary.items])).toEqual([["db3.legacy", 4], ["web17", 8]]);
    // Legacy hosts are not directory hosts.
    expect(await call("GET", "/v1/hosts")).toMatchObject({ body: [] });
    // The whole document as sent, facts the schema does not name (cron) included.
    expect((await call("GET", "/v1/migrate/inventories/web17")).body).toEqual(web17);
    expect((await call<{ code: string }>("GET", "/v1/migrate/inventories/nope")).status).toBe(404);

    const report = await call<FleetReport>("GET", "/v1/migrate/report");
    expect(report.status).toBe(200);
    expect(report.body.hosts.map((h) => [h.order, h.host, h.ready, h.items, h.green, h.red, h.dataBytes, h.blockedBy])).toEqual([
      [1, "db3.legacy", true, 4, 0.75, 0.25, 100, []],
      [2, "web17", false, 8, 0.75, 0.25, 2048, ["dev-lang/php"]],
    ]);
    expect(report.body.hosts[1]!.file).toBe("/v1/migrate/inventories/web17");
    expect(report.body.totals).toEqual({ hosts: 2, ready: 1, items: 12, green: 0.75, yellow: 0, red: 0.25, dataBytes: 2148 });
    expect(report.body.topBlockers).toEqual([{ kind: "no-role", subject: "dev-lang/php", hosts: 1, examples: ["web17"] }]);

    const html = await call("GET", "/v1/migrate/report?format=html");
    expect(html.status).toBe(200);
    expect(html.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(html.raw).toMatch(/^<!doctype html>/i);
    expect(html.raw).toContain('data-host="web17"');
    expect((await call<{ field: string }>("GET", "/v1/migrate/report?format=pdf")).body.field).toBe("format");
  });

  it("is for the admin token only: 401 without one, 403 for a host token", async () => {
    expect((await call("POST", "/v1/resource-groups", { name: "acme" })).status).toBe(201);
    const { token } = (await call<HostCreated>("POST", "/v1/hosts", { name: "web17", resourceGroup: "acme" })).body;
    const host = { authorization: `Bearer ${token}` };
    const inv = inventory("web17", { congruent: 1, divergent: 0 });
    for (const headers of [{}, host]) {
      const expected = headers === host ? 403 : 401;
      // Even a directory host of the same name may not put its own inventory.
      expect((await call("PUT", "/v1/migrate/inventories/web17", inv, headers)).status).toBe(expected);
      expect((await call("GET", "/v1/migrate/inventories", undefined, headers)).status).toBe(expected);
      expect((await call("GET", "/v1/migrate/inventories/web17", undefined, headers)).status).toBe(expected);
      expect((await call("GET", "/v1/migrate/report", undefined, headers)).status).toBe(expected);
      expect((await call("GET", "/v1/migrate/report?format=html", undefined, headers)).status).toBe(expected);
    }
    expect(await storage.listInventories()).toEqual([]);
  });

  it("400 names the field of a body that is not an inventory, or of the host it is not", async () => {
    const inv = inventory("web17", { congruent: 1, divergent: 0 });
    const bad = await call<{ field: string; code: string; error: string }>("PUT", "/v1/migrate/inventories/web17", { ...inv, summary: { ...inv.summary, items: "many" } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: "summary.items", code: "E_DIRECTORY_INVALID" });
    expect(bad.body.error).toMatch(/^summary\.items: /);
    expect((await call<{ field: string }>("PUT", "/v1/migrate/inventories/web17", { ...inv, format: "something/2" })).body.field).toBe("format");
    expect((await call<{ field: string }>("PUT", "/v1/migrate/inventories/web17", { ...inv, items: [{ kind: "package", id: "x", class: "purple", reason: "" }] })).body.field).toBe("items.0.class");
    expect((await call<{ field: string }>("PUT", "/v1/migrate/inventories/web17", [])).status).toBe(400);
    const other = await call<{ field: string; error: string }>("PUT", "/v1/migrate/inventories/web18", inv);
    expect(other).toMatchObject({ status: 400, body: { field: "host" } });
    expect(other.body.error).toContain('"web17"');
    expect((await call<{ field: string }>("PUT", "/v1/migrate/inventories/-web17", { ...inv, host: "-web17" })).body.field).toBe("host");
    expect((await call("PUT", "/v1/migrate/inventories/web17", "{not json")).status).toBe(400);
    expect(await storage.listInventories()).toEqual([]);
  });

  it("takes an inventory of a few MB though other bodies are limited, and refuses one over 32 MiB with 413", async () => {
    const big = inventory("big1", { congruent: 30_000, divergent: 0 });
    expect(JSON.stringify(big).length).toBeGreaterThan(1_500_000);
    expect((await call("PUT", "/v1/migrate/inventories/big1", big)).status).toBe(200);
    expect((await call<{ code: string }>("POST", "/v1/resource-groups", { name: "acme", description: "x".repeat(5000) })).status).toBe(413);
    const huge = inventory("huge1", { congruent: 1, divergent: 0, filler: "x".repeat(33 * 1024 * 1024) });
    expect((await call("PUT", "/v1/migrate/inventories/huge1", huge)).status).toBe(413);
    expect((await storage.listInventories()).map((i) => i.host)).toEqual(["big1"]);
  });
});
