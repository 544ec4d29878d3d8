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

  it("names the line of a JSON syntax error", () => {
    expect(() => parse('{\n  "name": "web1",\n  "roles": [}\n')).toThrow(/^host\.json:3: malformed JSON/);
  });

  it.each([
    [{ name: "web1", roles: ["nope"] }, /host\.json:1: unknown role "nope"/],
    [{ name: "Web_1", roles: [] }, /name must be a host name/],
    [{ name: "web1", roles: ["webgateway"], settings: { nginx: { worker_processes: 0 } } }, /worker_processes: 0 is below the minimum 1/],
    [{ name: "web1", roles: ["webgateway"], settings: { nginx: { error_log_level: "loud" } } }, /"loud" is not one of debug, info/],
    [{ name: "web1", roles: [], settings: { nginx: {} } }, /settings\.nginx: component not enabled by any role/],
    [{ name: "web1", roles: [], extra: 1 }, /unknown field "extra"/],
    [{ name: "web1", roles: [], parameters: { a: 1 } }, /parameters\.a must be a string/],
  ])("rejects %j", (host, message) => {
    expect(() => parse(JSON.stringify(host))).toThrow(message);
  });
});
