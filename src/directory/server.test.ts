import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChannelStatus, HostConfig, HostCreated, HostDetail, Report, StoredReport } from "./api.js";
import { sha256 } from "./http.js";
import { canaryScore } from "./rollout.js";
import { buildDirectory, type DirectoryOptions } from "./server.js";
import type { Storage } from "./storage.js";
import { openSqliteStorage } from "./storage/sqlite/index.js";

const ADMIN = "admin-secret-token-for-tests";
const admin = { authorization: `Bearer ${ADMIN}` };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let storage: Storage;
let app: FastifyInstance;

async function start(extra: Partial<DirectoryOptions> = {}) {
  storage = openSqliteStorage(":memory:");
  app = buildDirectory({ storage, adminTokenHash: sha256(ADMIN), ...extra });
  await app.ready();
}

afterEach(async () => {
  await app?.close();
  await storage?.close();
});

async function call<T = unknown>(method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: unknown, headers: Record<string, string> = admin) {
  const r = await app.inject({ method, url, payload: payload as object, headers });
  const json = String(r.headers["content-type"] ?? "").startsWith("application/json") && r.body;
  return { status: r.statusCode, body: (json ? JSON.parse(r.body) : undefined) as T, headers: r.headers, raw: r.body };
}

async function fleet(hosts: string[], channel = "stable", canaryShare = 10) {
  expect((await call("POST", "/v1/resource-groups", { name: "acme" })).status).toBe(201);
  expect((await call("POST", "/v1/channels", { name: channel, canaryShare })).status).toBe(201);
  const tokens: Record<string, string> = {};
  for (const name of hosts) {
    const r = await call<HostCreated>("POST", "/v1/hosts", { name, resourceGroup: "acme", roles: ["webgateway"], channel, settings: { nginx: { gzip: true } } });
    expect(r.status).toBe(201);
    tokens[name] = r.body.token;
  }
  return tokens;
}

const release = (version: string, workers: number) => ({ version, defaults: { webgateway: { nginx: { worker_processes: workers, gzip: false } } } });
const report = (result: Report["result"], number: number | null, extra: Partial<Report> = {}): Partial<Report> => ({
  generation: "/var/lib/congruent/store/x-system",
  release: number === null ? null : { channel: "stable", number },
  result,
  startedAt: "2025-01-01T00:00:00Z",
  finishedAt: "2025-01-01T00:00:01Z",
  ...extra,
});
const config = async (host: string, token: string) => (await call<HostConfig>("GET", `/v1/hosts/${host}/config`, undefined, bearer(token))).body;

describe("directory API: auth", () => {
  beforeEach(() => start());

  it("401 without a token or with an unknown one; health and metrics need none", async () => {
    expect((await call("GET", "/v1/hosts", undefined, {})).status).toBe(401);
    const r = await call<{ error: string; code: string }>("GET", "/v1/hosts", undefined, bearer("nope"));
    expect(r.status).toBe(401);
    expect(r.body.code).toBe("E_DIRECTORY_AUTH");
    expect((await call("GET", "/v1/health", undefined, {})).body).toEqual({ status: "ok", schemaVersion: 5 });
    expect((await call("GET", "/v1/hosts", undefined, admin)).status).toBe(200);
  });

  it("a host token reads only its own config and posts only its own reports (403 otherwise)", async () => {
    const t = await fleet(["web1", "web2"]);
    expect((await call("GET", "/v1/hosts/web1/config", undefined, bearer(t.web1!))).status).toBe(200);
    expect((await call("POST", "/v1/hosts/web1/reports", report("unchanged", null), bearer(t.web1!))).status).toBe(201);
    const other = await call<{ code: string }>("GET", "/v1/hosts/web2/config", undefined, bearer(t.web1!));
    expect(other.status).toBe(403);
    expect(other.body.code).toBe("E_DIRECTORY_FORBIDDEN");
    expect((await call("POST", "/v1/hosts/web2/reports", report("unchanged", null), bearer(t.web1!))).status).toBe(403);
    expect((await call("GET", "/v1/hosts/web1", undefined, bearer(t.web1!))).status).toBe(403);
    expect((await call("GET", "/v1/hosts/web1/reports", undefined, bearer(t.web1!))).status).toBe(403);
    expect((await call("POST", "/v1/channels/stable/promote", { number: 1 }, bearer(t.web1!))).status).toBe(403);
    expect((await call("GET", "/v1/hosts", undefined, bearer(t.web1!))).status).toBe(403);
  });

  it("the token is shown once, stored only as a hash, and rotation retires the old one", async () => {
    const t = await fleet(["web1"]);
    const shown = await call("GET", "/v1/hosts/web1");
    expect(shown.raw).not.toContain(t.web1);
    const rotated = await call<HostCreated>("POST", "/v1/hosts/web1/token");
    expect(rotated.status).toBe(200);
    expect(rotated.body.token).not.toBe(t.web1);
    expect((await call("GET", "/v1/hosts/web1/config", undefined, bearer(t.web1!))).status).toBe(401);
    expect((await call("GET", "/v1/hosts/web1/config", undefined, bearer(rotated.body.token))).status).toBe(200);
    expect(await storage.hostByTokenHash(sha256(rotated.body.token))).toBe("web1");
  });
});

describe("directory API: validation and errors", () => {
  beforeEach(() => start({ bodyLimit: 4096 }));

  it("400 names the offending field", async () => {
    await fleet([]);
    const bad = await call<{ error: string; field: string; code: string }>("POST", "/v1/hosts", { name: "web1", resourceGroup: "acme", maintenanceWindow: { schedule: "someday" } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: "maintenanceWindow.schedule", code: "E_DIRECTORY_INVALID" });
    expect(bad.body.error).toMatch(/^maintenanceWindow\.schedule: /);
    expect((await call<{ field: string }>("POST", "/v1/hosts", { name: "Web_1", resourceGroup: "acme" })).body.field).toBe("name");
    expect((await call<{ field: string }>("POST", "/v1/hosts", { name: "web1" })).body.field).toBe("resourceGroup");
    expect((await call<{ field: string }>("POST", "/v1/hosts", { name: "web1", resourceGroup: "acme", settings: { nginx: { x: [] } } })).body.field).toBe("settings.nginx.x");
    expect((await call<{ field: string }>("POST", "/v1/channels/stable/releases", { defaults: {} })).body.field).toBe("version");
    expect((await call<{ field: string }>("GET", "/v1/hosts/web1/reports?limit=0")).body.field).toBe("limit");
    const t = (await call<HostCreated>("POST", "/v1/hosts", { name: "web1", resourceGroup: "acme" })).body.token;
    expect((await call<{ field: string }>("POST", "/v1/hosts/web1/reports", { ...report("switched", 1), result: "great" }, bearer(t))).body.field).toBe("result");
  });

  it("malformed JSON is 400, an oversized body 413", async () => {
    const r = await app.inject({ method: "POST", url: "/v1/resource-groups", headers: { ...admin, "content-type": "application/json" }, payload: "{nope" });
    expect(r.statusCode).toBe(400);
    const big = await call("POST", "/v1/resource-groups", { name: "acme", description: "x".repeat(5000) });
    expect(big.status).toBe(413);
  });

  it("404 for unknown hosts, channels, releases, references and routes; 409 for duplicates", async () => {
    await fleet(["web1"]);
    expect((await call("GET", "/v1/hosts/nope")).status).toBe(404);
    expect((await call("GET", "/v1/hosts/nope/config")).status).toBe(404);
    expect((await call("PATCH", "/v1/hosts/nope", { roles: [] })).status).toBe(404);
    expect((await call("DELETE", "/v1/hosts/nope")).status).toBe(404);
    expect((await call("GET", "/v1/channels/nope/status")).status).toBe(404);
    expect((await call("POST", "/v1/channels/nope/releases", release("1", 1))).status).toBe(404);
    expect((await call<{ field: string }>("POST", "/v1/channels/stable/promote", { number: 7 })).body).toMatchObject({ field: "number", code: "E_DIRECTORY_NOT_FOUND" });
    expect((await call<{ field: string }>("POST", "/v1/hosts", { name: "web9", resourceGroup: "nope" })).body).toMatchObject({ field: "resourceGroup" });
    expect((await call("POST", "/v1/hosts", { name: "web9", resourceGroup: "acme", channel: "nope" })).status).toBe(404);
    expect((await call("GET", "/v1/nothing")).status).toBe(404);

    const dup = await call<{ code: string }>("POST", "/v1/hosts", { name: "web1", resourceGroup: "acme" });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe("E_DIRECTORY_CONFLICT");
    expect((await call("POST", "/v1/resource-groups", { name: "acme" })).status).toBe(409);
    expect((await call("POST", "/v1/channels", { name: "stable" })).status).toBe(409);
  });
});

describe("directory API: the host schema", () => {
  beforeEach(() => start());
  type Refusal = { error: string; field: string; code: string };
  const refused = async (method: "POST" | "PATCH", url: string, body: unknown) => {
    const r = await call<Refusal>(method, url, body);
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.code).toBe("E_DIRECTORY_INVALID");
    return r.body;
  };
  const add = (extra: Record<string, unknown>) => refused("POST", "/v1/hosts", { name: "db1", resourceGroup: "acme", ...extra });

  it("refuses what every agent would refuse, naming the field and what is allowed", async () => {
    await fleet(["web1"]);
    expect(await add({ roles: ["postgresql"] })).toMatchObject({ field: "roles.0", error: expect.stringMatching(/^roles\.0: unknown role "postgresql" \(known: webgateway, postgresql13, .*, redis, memcached\)$/) });
    expect(await add({ roles: ["webgateway"], settings: { nginx: { worker_processes: 999 } } })).toMatchObject({
      field: "settings.nginx.worker_processes",
      error: "settings.nginx.worker_processes: 999 is above the maximum 64",
    });
    expect(await add({ roles: ["webgateway"], settings: { redis: { maxmemory: "1gb" } } })).toMatchObject({ field: "settings.redis", error: "settings.redis: component not enabled by any role of this host" });
    expect(await add({ roles: ["redis"], settings: { redis: { requirepass: "x" } } })).toMatchObject({ field: "settings.redis.requirepass" });
    expect(await add({ roles: ["memcached"], settings: { memcached: { memory: 64, max_item_size: "64m" } } })).toMatchObject({ field: "settings.memcached.max_item_size" });
    expect(await add({ maintenanceWindow: { schedule: "Sun 02:00-04:00", timezone: "Mars/Olympus" } })).toMatchObject({
      field: "maintenanceWindow.timezone",
      error: expect.stringContaining('unknown time zone "Mars/Olympus": expected an IANA name such as Europe/Berlin'),
    });
    expect(await add({ parameters: { fqdn: "db1\u001b]0;owned\u0007" } })).toMatchObject({ field: "parameters.fqdn" });
    expect(await refused("PATCH", "/v1/hosts/web1", { maintenanceWindow: { schedule: "daily 01:00-02:00", timezone: "Mars/Olympus" } })).toMatchObject({ field: "maintenanceWindow.timezone" });
    expect(await refused("PATCH", "/v1/hosts/web1", { settings: { nginx: { error_log_level: "loud" } } })).toMatchObject({ field: "settings.nginx.error_log_level" });
    // Roles and settings changed apart must still make a valid host: web1 has nginx settings.
    expect(await refused("PATCH", "/v1/hosts/web1", { roles: ["redis"] })).toMatchObject({ field: "settings.nginx", error: "settings.nginx: component not enabled by any role of this host" });
    expect((await call("PATCH", "/v1/hosts/web1", { roles: ["redis"], settings: {} })).status).toBe(200);
  });

  it("refuses release defaults the agents would refuse", async () => {
    await fleet([]);
    const bad = await refused("POST", "/v1/channels/stable/releases", { version: "r1", defaults: { webgateway: { nginx: { error_log_level: "loud" } } } });
    expect(bad).toMatchObject({ field: "defaults.webgateway.nginx.error_log_level", error: expect.stringContaining('"loud" is not one of debug, info, notice, warn, error, crit') });
    expect((await refused("POST", "/v1/channels/stable/releases", { version: "r1", defaults: { web: {} } })).field).toBe("defaults.web");
    expect((await refused("POST", "/v1/channels/stable/releases", { version: "r1", defaults: { webgateway: { postgresql: { work_mem: "8MB" } } } })).field).toBe("defaults.webgateway.postgresql");
    expect((await call("POST", "/v1/channels/stable/releases", { version: "r1", defaults: { webgateway: { nginx: { error_log_level: "info" } }, postgresql15: { postgresql: { work_mem: "8MB" } } } })).status).toBe(201);
  });

  it("leaves to the agent what needs the program (a PostgreSQL parameter's name), and serves the schema", async () => {
    await fleet([]);
    const created = await call("POST", "/v1/hosts", { name: "db1", resourceGroup: "acme", roles: ["postgresql15"], settings: { postgresql: { no_such_parameter: 1 } } });
    expect(created.status).toBe(201);
    const schema = (await call<{ roles: { name: string; components: string[] }[]; components: { name: string; openSettings: boolean }[] }>("GET", "/v1/schema")).body;
    expect(schema.roles).toContainEqual({ name: "postgresql15", components: ["postgresql"] });
    expect(schema.components.find((c) => c.name === "postgresql")?.openSettings).toBe(true);
  });

  it("a host name up to the schema's limit (63) works in every URL", async () => {
    const t = await fleet([]);
    const name = `h${"x".repeat(61)}1`;
    expect(name).toHaveLength(63);
    const created = await call<HostCreated>("POST", "/v1/hosts", { name, resourceGroup: "acme", roles: ["webgateway"], channel: "stable" });
    expect(created.status).toBe(201);
    const token = created.body.token;
    expect((await call("GET", `/v1/hosts/${name}/config`, undefined, bearer(token))).status).toBe(200);
    expect((await call("POST", `/v1/hosts/${name}/reports`, report("switched", null), bearer(token))).status).toBe(201);
    expect((await call<HostDetail>("GET", `/v1/hosts/${name}`)).body.lastReport?.result).toBe("switched");
    expect((await call("GET", `/v1/hosts/${name}/reports`)).status).toBe(200);
    expect((await call("PATCH", `/v1/hosts/${name}`, { parameters: { fqdn: "long.example" } })).status).toBe(200);
    expect((await call("POST", `/v1/hosts/${name}/token`)).status).toBe(200);
    expect((await call("DELETE", `/v1/hosts/${name}`)).status).toBe(204);
    expect((await call<{ field: string }>("POST", "/v1/hosts", { name: `${name}x`, resourceGroup: "acme" })).body.field).toBe("name");
    expect(t).toEqual({});
  });
});

describe("directory API: hosts and config", () => {
  beforeEach(() => start());

  it("lists with filters, patches only the fields given, deletes", async () => {
    await fleet(["web1", "web2"]);
    await call("POST", "/v1/channels", { name: "beta" });
    expect((await call("PATCH", "/v1/hosts/web2", { channel: "beta", maintenanceWindow: { schedule: "Sun 02:00-04:00", timezone: "Europe/Berlin" } })).status).toBe(200);
    const names = async (q: string) => (await call<{ name: string }[]>("GET", `/v1/hosts${q}`)).body.map((h) => h.name);
    expect(await names("")).toEqual(["web1", "web2"]);
    expect(await names("?channel=beta")).toEqual(["web2"]);
    expect(await names("?resourceGroup=acme&channel=stable")).toEqual(["web1"]);
    const web2 = (await call<HostDetail>("GET", "/v1/hosts/web2")).body.host;
    expect(web2).toMatchObject({ roles: ["webgateway"], settings: { nginx: { gzip: true } }, channel: "beta", maintenanceWindow: { timezone: "Europe/Berlin" } });
    const cleared = await call<{ channel?: string; maintenanceWindow?: unknown; roles: string[] }>("PATCH", "/v1/hosts/web2", { channel: null, maintenanceWindow: null });
    expect(cleared.body.channel).toBeUndefined();
    expect(cleared.body.maintenanceWindow).toBeUndefined();
    expect(cleared.body.roles).toEqual(["webgateway"]);
    expect((await call("DELETE", "/v1/hosts/web2")).status).toBe(204);
    expect(await names("")).toEqual(["web1"]);
  });

  it("config merges release defaults per role under the host's settings, with a strong ETag and 304", async () => {
    const t = await fleet(["web1"], "stable", 100);
    await call("POST", "/v1/channels/stable/releases", release("2025.01", 4));
    const before = await call<HostConfig>("GET", "/v1/hosts/web1/config", undefined, bearer(t.web1!));
    expect(before.body.release).toBeNull();
    expect((await call("POST", "/v1/channels/stable/promote", { number: 1 })).status).toBe(200);

    const r = await app.inject({ method: "GET", url: "/v1/hosts/web1/config", headers: bearer(t.web1!) });
    const etag = r.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(JSON.parse(r.body)).toEqual({
      host: { name: "web1", roles: ["webgateway"], parameters: {}, settings: { nginx: { gzip: true, worker_processes: 4 } } },
      maintenanceWindow: null,
      release: { channel: "stable", number: 1, version: "2025.01" },
      rolledBack: false,
    });
    expect(etag).toBe(`"${(await import("node:crypto")).createHash("sha256").update(r.body).digest("base64url")}"`);

    const again = await app.inject({ method: "GET", url: "/v1/hosts/web1/config", headers: { ...bearer(t.web1!), "if-none-match": etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
    expect(again.headers.etag).toBe(etag);

    await call("PATCH", "/v1/hosts/web1", { settings: { nginx: { worker_processes: 8 } } });
    const changed = await app.inject({ method: "GET", url: "/v1/hosts/web1/config", headers: { ...bearer(t.web1!), "if-none-match": etag } });
    expect(changed.statusCode).toBe(200);
    expect(JSON.parse(changed.body).host.settings).toEqual({ nginx: { gzip: false, worker_processes: 8 } });
  });

  it("pending shows deferred restarts until a later report has none", async () => {
    const t = await fleet(["db1"]);
    const deferred = [{ service: "postgresql", action: "restart", why: ["shared_buffers"] }];
    await call("POST", "/v1/hosts/db1/reports", report("deferred", null, { deferred } as Partial<Report>), bearer(t.db1!));
    expect((await call<HostDetail>("GET", "/v1/hosts/db1")).body.pending).toEqual(deferred);
    await call("POST", "/v1/hosts/db1/reports", report("unchanged", null, { deferred } as Partial<Report>), bearer(t.db1!));
    expect((await call<HostDetail>("GET", "/v1/hosts/db1")).body.pending).toEqual(deferred);
    await call("POST", "/v1/hosts/db1/reports", report("switched", null), bearer(t.db1!));
    const detail = (await call<HostDetail>("GET", "/v1/hosts/db1")).body;
    expect(detail.pending).toEqual([]);
    expect(detail.lastReport?.result).toBe("switched");
  });
});

describe("directory API: channels and rollouts", () => {
  beforeEach(() => start());
  const hosts = Array.from({ length: 30 }, (_, i) => `web${i + 1}`);
  const canaries = hosts.filter((h) => canaryScore(h) < 10);

  it("a release reaches the canaries first and everyone once they all succeeded", async () => {
    expect(canaries.length).toBeGreaterThan(0);
    const t = await fleet(hosts);
    await call("POST", "/v1/channels/stable/releases", release("r1", 1));
    await call("POST", "/v1/channels/stable/releases", release("r2", 2));
    expect((await call<ChannelStatus>("POST", "/v1/channels/stable/promote", { number: 1, canaryShare: 100 })).body.rollout?.state).toBe("complete");

    const st = (await call<ChannelStatus>("POST", "/v1/channels/stable/promote", { number: 2 })).body;
    expect(st.rollout).toMatchObject({ release: 2, state: "canary", canaryHosts: canaries, succeeded: [] });
    expect(st).toMatchObject({ current: 2, previous: 1 });
    const outsider = hosts.find((h) => !canaries.includes(h))!;
    expect((await config(canaries[0]!, t[canaries[0]!]!)).release?.number).toBe(2);
    expect((await config(outsider, t[outsider]!)).release?.number).toBe(1);

    // The first canary deferred its restart to its window: it has not run release 2 yet.
    const restart = [{ service: "nginx", action: "restart" as const, why: ["binary"] }];
    await call("PATCH", `/v1/hosts/${canaries[0]}`, { maintenanceWindow: { schedule: "Sun 02:00-04:00", timezone: "Europe/Berlin" } });
    for (const [i, h] of canaries.entries()) {
      const r = i === 0 ? report("deferred", 2, { deferred: restart }) : report("switched", 2);
      expect((await call("POST", `/v1/hosts/${h}/reports`, r, bearer(t[h]!))).status).toBe(201);
    }
    const waiting = (await call<ChannelStatus>("GET", "/v1/channels/stable/status")).body;
    expect(waiting.rollout).toMatchObject({ state: "canary", waiting: [{ host: canaries[0], window: "Sun 02:00-04:00 Europe/Berlin", nextWindow: expect.stringMatching(/^\d{4}-\d\d-\d\dT0[01]:00:00\.000Z$/) }] });
    expect(waiting.hosts.find((h) => h.name === canaries[0])).toMatchObject({ release: 2, failed: null, lastResult: "deferred", target: 2 });
    expect((await config(outsider, t[outsider]!)).release?.number).toBe(1);
    // Its window came and the restart ran: now every canary applied all of release 2.
    await call("POST", `/v1/hosts/${canaries[0]}/reports`, report("switched", 2), bearer(t[canaries[0]!]!));
    const done = (await call<ChannelStatus>("GET", "/v1/channels/stable/status")).body;
    expect(done.rollout).toMatchObject({ state: "complete", waiting: [] });
    expect(done.rollout?.succeeded.sort()).toEqual(canaries);
    expect((await config(outsider, t[outsider]!)).release?.number).toBe(2);
  });

  it("an admin may continue a rollout whose canaries wait; a halted one is not continued", async () => {
    const t = await fleet(hosts);
    await call("POST", "/v1/channels/stable/releases", release("r1", 1));
    await call("POST", "/v1/channels/stable/releases", release("r2", 2));
    await call("POST", "/v1/channels/stable/promote", { number: 1, canaryShare: 100 });
    await call("POST", "/v1/channels/stable/promote", { number: 2 });
    const restart = [{ service: "nginx", action: "restart" as const, why: ["binary"] }];
    for (const h of canaries) await call("POST", `/v1/hosts/${h}/reports`, report("deferred", 2, { deferred: restart }), bearer(t[h]!));
    const st = (await call<ChannelStatus>("GET", "/v1/channels/stable/status")).body;
    // No window: the restart waits for --force on the host.
    expect(st.rollout?.waiting).toEqual(canaries.map((host) => ({ host, window: null, nextWindow: null })));
    const outsider = hosts.find((h) => !canaries.includes(h))!;
    const forced = await call<ChannelStatus>("POST", "/v1/channels/stable/continue");
    expect(forced.status).toBe(200);
    expect(forced.body.rollout).toMatchObject({ state: "complete", forcedAt: expect.any(String) });
    expect((await config(outsider, t[outsider]!)).release?.number).toBe(2);
    expect((await call<{ code: string }>("POST", "/v1/channels/stable/continue")).body.code).toBe("E_DIRECTORY_CONFLICT");
  });

  it("a failing canary halts the rollout: the canaries keep the new release, the rest stay on the previous", async () => {
    const t = await fleet(hosts);
    await call("POST", "/v1/channels/stable/releases", release("r1", 1));
    await call("POST", "/v1/channels/stable/releases", release("r2", 2));
    await call("POST", "/v1/channels/stable/promote", { number: 1, canaryShare: 100 });
    for (const h of hosts) await call("POST", `/v1/hosts/${h}/reports`, report("switched", 1), bearer(t[h]!));
    await call("POST", "/v1/channels/stable/promote", { number: 2, canaryShare: 20 });
    const st = (await call<ChannelStatus>("GET", "/v1/channels/stable/status")).body;
    const [bad, ...rest] = st.rollout!.canaryHosts;
    // A report about another release does not count.
    await call("POST", `/v1/hosts/${bad}/reports`, report("failed", 1, { error: "old" }), bearer(t[bad!]!));
    expect((await call<ChannelStatus>("GET", "/v1/channels/stable/status")).body.rollout?.state).toBe("canary");
    await call("POST", `/v1/hosts/${bad}/reports`, report("failed", 2, { error: "nginx -t: unknown directive" }), bearer(t[bad!]!));
    for (const h of rest) await call("POST", `/v1/hosts/${h}/reports`, report("switched", 2), bearer(t[h]!));
    const halted = (await call<ChannelStatus>("GET", "/v1/channels/stable/status")).body;
    expect(halted.rollout).toMatchObject({ state: "halted", failed: [{ host: bad, error: "nginx -t: unknown directive" }] });
    // The failed canary runs release 1 still (its last applied one) and failed release 2.
    expect(halted.hosts.find((h) => h.name === bad)).toMatchObject({ release: 1, failed: 2, lastResult: "failed" });
    expect((await call("POST", "/v1/channels/stable/continue")).status).toBe(409);
    const canaries = new Set(halted.rollout!.canaryHosts);
    expect(hosts.some((h) => !canaries.has(h))).toBe(true);
    for (const h of hosts) expect((await config(h, t[h]!)).release?.number, h).toBe(canaries.has(h) ? 2 : 1);
    expect(halted.hosts.every((h) => h.target === (canaries.has(h.name) ? 2 : 1))).toBe(true);
    const metrics = await call("GET", "/metrics", undefined, {});
    expect(metrics.raw).toContain('congruent_directory_rollout_state{channel="stable",state="halted"} 1');
  });

  it("an explicit rollback moves the channel back and says so (rolledBack); a promote clears it", async () => {
    const t = await fleet(["web1"], "stable", 100);
    for (const v of ["r1", "r2", "r3"]) await call("POST", "/v1/channels/stable/releases", release(v, 1));
    await call("POST", "/v1/channels/stable/promote", { number: 2 });
    expect((await call<{ code: string }>("POST", "/v1/channels/stable/promote", { number: 1 })).status).toBe(409);
    expect((await call("POST", "/v1/channels/stable/rollback", { number: 2 })).status).toBe(409);
    const back = await call<ChannelStatus>("POST", "/v1/channels/stable/rollback", { number: 1 });
    expect(back.body).toMatchObject({ current: 1, previous: 2, rollout: null });
    expect(await config("web1", t.web1!)).toMatchObject({ release: { number: 1, version: "r1" }, rolledBack: true });
    expect((await call("GET", "/v1/channels/stable")).body).toMatchObject({ rolledBack: true, current: 1 });
    await call("POST", "/v1/channels/stable/promote", { number: 3 });
    expect(await config("web1", t.web1!)).toMatchObject({ release: { number: 3 }, rolledBack: false });
    expect((await call<{ number: number }[]>("GET", "/v1/channels/stable/releases")).body.map((r) => r.number)).toEqual([1, 2, 3]);
  });

  it("a canary that leaves the channel does not hold the rollout up", async () => {
    const t = await fleet(["a1", "a2", "a3"], "stable", 100);
    await call("POST", "/v1/channels/stable/releases", release("r1", 1));
    await call("POST", "/v1/channels/stable/promote", { number: 1, canaryShare: 99 });
    const st = (await call<ChannelStatus>("GET", "/v1/channels/stable/status")).body.rollout!;
    expect(st.state).toBe("canary");
    const [first, ...others] = st.canaryHosts;
    await call("POST", `/v1/hosts/${first}/reports`, report("switched", 1), bearer(t[first!]!));
    for (const h of others) expect((await call("DELETE", `/v1/hosts/${h}`)).status).toBe(204);
    expect((await call<ChannelStatus>("GET", "/v1/channels/stable/status")).body.rollout?.state).toBe("complete");
  });
});

describe("directory API: retention, metrics, logs", () => {
  it("keeps the last N reports per host and failures younger than the limit, pruned on insert", async () => {
    let clock = new Date("2025-01-01T00:00:00Z");
    await start({ retention: { keepLast: 5, failureDays: 30 }, now: () => clock });
    const t = await fleet(["web1"]);
    const post = (r: Partial<Report>) => call("POST", "/v1/hosts/web1/reports", r, bearer(t.web1!));
    await post(report("failed", null, { error: "f-old" }));
    clock = new Date("2025-02-15T00:00:00Z");
    await post(report("timeout", null, { error: "t-recent" }));
    for (let i = 0; i < 10; i++) await post(report("switched", null, { error: `ok${i}` }));
    const kept = (await call<StoredReport[]>("GET", "/v1/hosts/web1/reports?limit=100")).body.map((r) => r.error);
    expect(kept).toEqual(["ok9", "ok8", "ok7", "ok6", "ok5", "t-recent"]);
    const page = (await call<StoredReport[]>("GET", "/v1/hosts/web1/reports?limit=2")).body;
    expect(page.map((r) => r.error)).toEqual(["ok9", "ok8"]);
    expect((await call<StoredReport[]>("GET", `/v1/hosts/web1/reports?limit=2&before=${page[1]!.id}`)).body.map((r) => r.error)).toEqual(["ok7", "ok6"]);
  });

  it("serves Prometheus text with the fleet and request metrics", async () => {
    await start();
    const t = await fleet(["web1", "web2"]);
    await call("POST", "/v1/hosts/web1/reports", report("failed", null), bearer(t.web1!));
    await config("web1", t.web1!);
    const r = await call("GET", "/metrics", undefined, {});
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/plain/);
    for (const name of [
      "congruent_directory_hosts",
      "congruent_directory_report_age_seconds_bucket",
      "congruent_directory_oldest_report_age_seconds",
      "congruent_directory_rollout_state",
      "congruent_directory_reports_total",
      "congruent_directory_http_request_duration_seconds_bucket",
    ]) expect(r.raw).toContain(name);
    expect(r.raw).toContain('congruent_directory_hosts{result="failed"} 1');
    expect(r.raw).toContain('congruent_directory_hosts{result="none"} 1');
    expect(r.raw).toContain('route="/v1/hosts/:name/config"');
    expect(r.raw).not.toContain("web1");
  });

  it("sums the fleet's vulnerability counts from each host's latest report that carried them", async () => {
    await start();
    const t = await fleet(["web1", "web2", "web3"]);
    await call("POST", "/v1/hosts/web1/reports", report("switched", null, { vulnerabilities: { total: 3, whitelisted: 1 } }), bearer(t.web1!));
    await call("POST", "/v1/hosts/web2/reports", report("switched", null, { vulnerabilities: { total: 0, whitelisted: 2 } }), bearer(t.web2!));
    // A later report without counts keeps the last known ones.
    await call("POST", "/v1/hosts/web1/reports", report("unchanged", null), bearer(t.web1!));
    const r = await call("GET", "/metrics", undefined, {});
    expect(r.raw).toContain('congruent_directory_vulnerabilities{kind="open"} 3');
    expect(r.raw).toContain('congruent_directory_vulnerabilities{kind="whitelisted"} 3');
    expect(r.raw).toContain("congruent_directory_hosts_vulnerable 1");
  });

  it("never logs a token", async () => {
    let logs = "";
    const stream = new Writable({ write: (chunk, _enc, done) => ((logs += chunk), done()) });
    await start({ logger: { level: "trace", stream } });
    const t = await fleet(["web1"]);
    await config("web1", t.web1!);
    await call("GET", "/v1/hosts/web1/config", undefined, bearer("wrong-token-value"));
    const rotated = await call<HostCreated>("POST", "/v1/hosts/web1/token");
    app.log.info({ req: { headers: admin } }, "a careless log line");
    expect(logs).toContain("/v1/hosts/web1/config");
    for (const secret of [ADMIN, t.web1!, rotated.body.token, "wrong-token-value"]) expect(logs).not.toContain(secret);
  });
});
