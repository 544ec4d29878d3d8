import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../http.js";
import { buildDirectory } from "../server.js";
import type { Storage } from "../storage.js";
import { openSqliteStorage } from "../storage/sqlite/index.js";

const admin = { authorization: "Bearer admin-token-for-control-tests" };
let storage: Storage;
let app: FastifyInstance;
const call = (method: "GET" | "POST" | "DELETE", url: string, payload?: object) => app.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });

beforeEach(async () => {
  storage = openSqliteStorage(":memory:");
  app = buildDirectory({ storage, adminTokenHash: sha256("admin-token-for-control-tests") });
  await app.ready();
  await call("POST", "/v1/resource-groups", { name: "acme" });
  await call("POST", "/v1/channels", { name: "stable", canaryShare: 50 });
  for (const n of ["a1", "a2", "a3", "a4"]) await call("POST", "/v1/hosts", { name: n, resourceGroup: "acme", channel: "stable" });
  for (const v of ["r1", "r2"]) await call("POST", "/v1/channels/stable/releases", { version: v, defaults: {} });
  await call("POST", "/v1/channels/stable/promote", { number: 1, canaryShare: 100 });
});
afterEach(async () => {
  await app.close();
  await storage.close();
});

describe("POST /v1/channels/:name/pause and /resume", () => {
  it("pause halts a canary phase (409 otherwise), resume returns to it; configs follow", async () => {
    expect((await call("POST", "/v1/channels/stable/pause")).json()).toMatchObject({ code: "E_DIRECTORY_CONFLICT", error: expect.stringContaining("rollout of 1 is complete") });
    const promoted = (await call("POST", "/v1/channels/stable/promote", { number: 2 })).json();
    expect(promoted.rollout.state).toBe("canary");
    const paused = await call("POST", "/v1/channels/stable/pause");
    expect(paused.statusCode).toBe(200);
    expect(paused.json().rollout).toMatchObject({ state: "halted", paused: { by: "admin" } });
    expect((await call("GET", "/v1/channels/stable")).json().rolloutState).toBe("halted");
    expect((await call("POST", "/v1/channels/stable/pause")).statusCode).toBe(409);
    const resumed = (await call("POST", "/v1/channels/stable/resume")).json();
    expect(resumed.rollout.state).toBe("canary");
    expect(resumed.rollout).not.toHaveProperty("paused");
    expect((await call("POST", "/v1/channels/stable/resume")).statusCode).toBe(409);
    expect((await call("POST", "/v1/channels/nope/pause")).statusCode).toBe(404);
  });
});

describe("/v1/tokens", () => {
  it("adds only viewer tokens, names checked, never lists a secret", async () => {
    expect((await call("POST", "/v1/tokens", {})).json()).toMatchObject({ code: "E_DIRECTORY_INVALID", field: "viewer" });
    expect((await call("POST", "/v1/tokens", { viewer: true, name: "no spaces" })).json()).toMatchObject({ field: "name" });
    const made = (await call("POST", "/v1/tokens", { viewer: true })).json();
    expect(made.name).toBe(made.id);
    expect((await call("POST", "/v1/tokens", { viewer: true, name: made.id })).statusCode).toBe(409);
    expect(JSON.stringify((await call("GET", "/v1/tokens")).json())).not.toContain(made.token);
    expect((await call("DELETE", `/v1/tokens/${made.id}`)).statusCode).toBe(204);
    expect((await call("DELETE", `/v1/tokens/${made.id}`)).statusCode).toBe(404);
  });
});
