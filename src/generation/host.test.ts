import { describe, expect, it } from "vitest";
import { parseJson } from "./json-source.js";
import { effectiveSettings, parseHost } from "./host.js";

const parse = (text: string) => parseHost(parseJson("host.json", text, "E_HOST_INVALID"));

describe("host descriptions", () => {
  it("accepts the documented shape and applies defaults", () => {
    const host = parse(JSON.stringify({ name: "web1", roles: ["webgateway"], parameters: { resource_group: "acme" }, settings: { nginx: { worker_processes: 2 } } }));
    expect(host.name).toBe("web1");
    expect(effectiveSettings(host, "nginx")).toMatchObject({ worker_processes: 2, worker_connections: 1024 });
  });

  it("names the line of the value the schema refuses, not of an earlier key of the same name", () => {
    const text = '{\n  "name": "web1",\n  "roles": ["webgateway"],\n  "parameters": { "worker_processes": "2" },\n  "settings": {\n    "nginx": {\n      "gzip": true,\n      "worker_processes": 999\n    }\n  }\n}\n';
    expect(() => parse(text)).toThrow(/^host\.json:8: settings\.nginx\.worker_processes: 999 is above the maximum 64$/);
    expect(() => parse('{\n  "roles": []\n}\n')).toThrow(/^host\.json:1: name: expected a name/);
  });

  it("names the line of a JSON syntax error", () => {
    expect(() => parse('{\n  "name": "web1",\n  "roles": [}\n')).toThrow(/^host\.json:3: malformed JSON/);
  });

  it.each([
    [{ name: "web1", roles: ["nope"] }, /host\.json:1: roles\.0: unknown role "nope"/],
    [{ name: "Web_1", roles: [] }, /name: expected a name \(lower-case letters, digits and '-'/],
    [{ name: "web1", roles: ["webgateway"], settings: { nginx: { worker_processes: 0 } } }, /worker_processes: 0 is below the minimum 1/],
    [{ name: "web1", roles: ["webgateway"], settings: { nginx: { error_log_level: "loud" } } }, /"loud" is not one of debug, info/],
    [{ name: "web1", roles: [], settings: { nginx: {} } }, /settings\.nginx: component not enabled by any role/],
    [{ name: "web1", roles: [], extra: 1 }, /unknown field "extra"/],
    [{ name: "web1", roles: [], parameters: { a: 1 } }, /parameters\.a: must be a string/],
    [{ name: "web1", roles: ["memcached"], settings: { memcached: { memory: 4, max_item_size: "4m" } } }, /settings\.memcached\.max_item_size: 4m is more than half of memory/],
    [{ name: "web1", roles: ["redis"], settings: { redis: { requirepass: "x" } } }, /settings\.redis\.requirepass: "requirepass" is set by the platform/],
    [{ name: "web1", roles: ["postgresql15"], settings: { postgresql: { "work mem": "8MB" } } }, /settings\.postgresql\.work mem: not a PostgreSQL parameter name/],
  ])("rejects %j", (host, message) => {
    expect(() => parse(JSON.stringify(host))).toThrow(message);
  });
});
