import { describe, expect, it } from "vitest";
import type { Host, Release } from "../directory/api.js";
import { forecastRollout } from "./forecast.js";
import { previewRelease } from "./preview.js";

const T0 = "2026-12-01T10:00:00.000Z";
const release = (number: number, defaults: Release["defaults"]): Release => ({ channel: "stable", number, version: `v${number}`, defaults, createdAt: T0 });
const host = (name: string, roles: string[], settings: Host["settings"] = {}): Host => ({ name, resourceGroup: "acme", roles, parameters: {}, settings, createdAt: T0, updatedAt: T0 });

describe("previewRelease", () => {
  it("shows per role what changes and per host whether it reloads or restarts, the host's own settings winning", () => {
    const r1 = release(1, { webgateway: { nginx: { worker_processes: 2 } }, memcached: { memcached: { memory: 64 } } });
    const r2 = release(2, { webgateway: { nginx: { worker_processes: 4, keepalive_timeout: 30 } }, memcached: { memcached: { memory: 128 } }, postgresql15: { postgresql: { work_mem: "16MB" } } });
    const p = previewRelease(r1, r2, [host("web1", ["webgateway"]), host("web2", ["webgateway"], { nginx: { worker_processes: 8, keepalive_timeout: 30 } }), host("cache1", ["memcached"]), host("db1", ["postgresql15"])]);
    expect(p.roles.map((r) => [r.role, r.programs, r.changes.map((c) => `${c.component}.${c.setting}: ${c.from} → ${c.to} (${c.change})`)])).toEqual([
      ["memcached", ["memcached"], ["memcached.memory: 64 → 128 (restart)"]],
      ["postgresql15", ["postgresql"], ["postgresql.work_mem: undefined → 16MB (unknown)"]],
      ["webgateway", ["nginx"], ["nginx.keepalive_timeout: undefined → 30 (reload)", "nginx.worker_processes: 2 → 4 (reload)"]],
    ]);
    expect(p.hosts.map((h) => [h.host, h.action, h.changes.length])).toEqual([
      ["web1", "reload", 2],
      ["web2", "none", 0],
      ["cache1", "restart", 1],
      ["db1", "unknown", 1],
    ]);
  });
});

describe("forecastRollout", () => {
  it("canaries first, a restart in the host's window; the rest after the last canary", () => {
    const now = new Date("2026-12-01T10:00:00.000Z"); // a Tuesday
    const sunday = { schedule: "Sun 02:00-04:00", timezone: "UTC" };
    const f = forecastRollout(now, 10 * 60_000, [
      { host: "cache1", canary: true, action: "restart", window: sunday },
      { host: "web1", canary: true, action: "reload", window: sunday },
      { host: "web2", canary: false, action: "reload", window: null },
      { host: "cache2", canary: false, action: "restart", window: { schedule: "daily 01:00-02:00", timezone: "UTC" } },
    ]);
    expect(f.map((x) => [x.host, x.by])).toEqual([
      ["cache1", "2026-12-06T02:00:00.000Z"],
      ["web1", "2026-12-01T10:10:00.000Z"],
      ["web2", "2026-12-06T02:10:00.000Z"],
      ["cache2", "2026-12-07T01:00:00.000Z"],
    ]);
    expect(f[2]!.why).toContain("after the canaries");
    expect(forecastRollout(now, 600_000, [{ host: "web2", canary: false, action: "reload", window: null }], { halted: true })[0]).toEqual({ host: "web2", by: null, why: "after the rollout resumes" });
    // Without a window a restart waits for --force, and so does everyone after that canary.
    const forced = forecastRollout(now, 600_000, [{ host: "db1", canary: true, action: "restart", window: null }, { host: "web3", canary: false, action: "reload", window: null }]);
    expect(forced.map((x) => [x.host, x.by, x.why])).toEqual([
      ["db1", null, "canary; restart: no maintenance window, waits for manage --force"],
      ["web3", null, "after canary db1, which waits for manage --force"],
    ]);
  });
});
