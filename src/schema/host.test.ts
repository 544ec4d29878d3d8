import { describe, expect, it } from "vitest";
import { roles } from "../components/registry.js";
import { checkHostDescription, checkRoleDefaults, checkRoles, checkSettings, typeSetting } from "./host.js";
import { describeIssue } from "./issue.js";
import { checkName, checkParameters, NAME_MAX } from "./names.js";
import { checkTimeZone, checkWindow } from "./window.js";

const first = (issues: { path: (string | number)[]; message: string }[]) => (issues[0] ? describeIssue(issues[0]) : undefined);

describe("the host schema", () => {
  it("knows the registry's roles, and names them when refusing one", () => {
    expect(checkRoles(["webgateway", "postgresql15", "redis", "memcached"])).toEqual([]);
    const refused = first(checkRoles(["webgateway", "postgresql"]));
    expect(refused).toMatch(/^1: unknown role "postgresql" \(known: webgateway, postgresql13, .*postgresql17, redis, memcached\)$/);
    expect(roles.has("postgresql")).toBe(false);
  });

  it("checks each setting's type, range and allowed values", () => {
    expect(checkSettings({ nginx: { worker_processes: 8, gzip: false, error_log_level: "info" } })).toEqual([]);
    expect(first(checkSettings({ nginx: { worker_processes: 999 } }))).toBe("nginx.worker_processes: 999 is above the maximum 64");
    expect(first(checkSettings({ nginx: { error_log_level: "loud" } }))).toBe('nginx.error_log_level: "loud" is not one of debug, info, notice, warn, error, crit');
    expect(first(checkSettings({ nginx: { gzip: "off" } }))).toBe('nginx.gzip: expected a boolean, got "off"');
    expect(first(checkSettings({ nginx: { worker_procs: 2 } }))).toMatch(/^nginx\.worker_procs: unknown setting \(known: worker_processes, /);
    expect(first(checkSettings({ apache: {} }))).toMatch(/^apache: unknown component \(known: nginx, postgresql, redis, memcached\)$/);
  });

  it("checks what can be known of open settings without the program", () => {
    expect(checkSettings({ postgresql: { work_mem: "8MB", "pg_stat_statements.max": 5000 }, redis: { maxmemory: "256mb", save: "900 1" } })).toEqual([]);
    expect(first(checkSettings({ postgresql: { data_directory: "/tmp" } }))).toBe("postgresql.data_directory: data_directory is set by the platform and cannot be changed here");
    expect(first(checkSettings({ postgresql: { "work-mem": "8MB" } }))).toBe("postgresql.work-mem: not a PostgreSQL parameter name");
    expect(first(checkSettings({ postgresql: { log_line_prefix: "a\nb" } }))).toBe("postgresql.log_line_prefix: a value must be one line");
    expect(first(checkSettings({ redis: { dir: "/tmp" } }))).toMatch(/^redis\.dir: "dir" is set by the platform/);
    expect(first(checkSettings({ redis: { save: '"900 1' } }))).toBe("redis.save: unbalanced quotes in the value");
    expect(first(checkSettings({ redis: { port: 70000 } }))).toBe("redis.port: 70000 is above the maximum 65535");
  });

  it("checks rules across settings when one layer gives all of them", () => {
    expect(checkSettings({ memcached: { memory: 128, max_item_size: "16m" } })).toEqual([]);
    expect(first(checkSettings({ memcached: { memory: 64, max_item_size: "64m" } }))).toBe("memcached.max_item_size: 64m is more than half of memory (64 MB); memcached refuses that");
    // The memory may come from a release's defaults or memcached.json: only the build sees it.
    expect(checkSettings({ memcached: { max_item_size: "64m" } })).toEqual([]);
  });

  it("release defaults: known roles, each with only the components it enables", () => {
    expect(checkRoleDefaults({ webgateway: { nginx: { worker_processes: 4 } }, postgresql15: { postgresql: { work_mem: "8MB" } } })).toEqual([]);
    expect(first(checkRoleDefaults({ webgateway: { nginx: { error_log_level: "loud" } } }))).toMatch(/^webgateway\.nginx\.error_log_level: "loud" is not one of/);
    expect(first(checkRoleDefaults({ web: { nginx: {} } }))).toMatch(/^web: unknown role "web"/);
    expect(first(checkRoleDefaults({ webgateway: { redis: { maxmemory: "1gb" } } }))).toBe("webgateway.redis: component not enabled by role webgateway (it enables nginx)");
  });

  it("a host's own settings only for components its roles enable", () => {
    expect(first(checkSettings({ redis: {} }, ["webgateway"]))).toBe("redis: component not enabled by any role of this host");
    expect(checkHostDescription({ name: "db1", roles: ["postgresql15"], settings: { postgresql: { shared_buffers: "256MB" } } })).toEqual([]);
  });

  it("names, parameters, windows and time zones", () => {
    expect(checkName("a".repeat(NAME_MAX))).toBeUndefined();
    expect(checkName("a".repeat(NAME_MAX + 1))).toMatch(/at most 63/);
    expect(checkName("-web")).toBeDefined();
    expect(first(checkParameters({ fqdn: "web1\u001b[2J" }))).toBe("fqdn: control characters (newlines, escapes) are not allowed");
    expect(first(checkParameters({ "bad key": "x" }))).toMatch(/^bad key: a parameter name is/);
    for (const zone of ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"]) expect(checkTimeZone(zone), zone).toBeUndefined();
    for (const zone of ["Mars/Olympus", "+01:00", "", "Europe/Berlin\n", 3]) expect(checkTimeZone(zone), String(zone)).toMatch(/^unknown time zone/);
    expect(first(checkWindow({ schedule: "Sun 02:00-04:00", timezone: "Mars/Olympus" }))).toMatch(/^timezone: unknown time zone "Mars\/Olympus": expected an IANA name/);
    expect(first(checkWindow({ schedule: "someday" }))).toMatch(/^schedule: like 'Sun 02:00-04:00'/);
    expect(first(checkWindow({ schedule: "daily 02:00-02:00" }))).toMatch(/an empty window/);
    expect(checkWindow({ schedule: "Sat,Sun 23:00-24:00" })).toEqual([]);
  });

  it("types a command line's values as the schema types the setting", () => {
    expect(typeSetting("nginx", "gzip", "off")).toBe(false);
    expect(typeSetting("nginx", "server_tokens", "yes")).toBe(true);
    expect(typeSetting("nginx", "client_max_body_size", "16")).toBe("16");
    expect(typeSetting("nginx", "worker_processes", "4")).toBe(4);
    expect(typeSetting("postgresql", "port", "5433")).toBe(5433);
    expect(typeSetting("postgresql", "work_mem", "8MB")).toBe("8MB");
    expect(typeSetting("postgresql", "jit", "false")).toBe(false);
  });
});
