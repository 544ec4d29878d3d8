import { describe, expect, it } from "vitest";
import { parseWhitelist, whitelisted } from "./whitelist.js";

const text = `
["openssl-1.0.1f"]
cve = ["CVE-2014-0160"]
until = "2030-01-01"
issue_url = "https://tracker.example/1"
comment = "backported fix"

["libxslt"]

["*"]
cve = ["cve-2022-0543"]
until = 2024-06-01
severity = "low"
`;

describe("vulnix whitelists", () => {
  const w = parseWhitelist(text, "w.toml");

  it("reads version, package and wildcard rules", () => {
    expect(w.rules.map((r) => [r.key, r.pname, r.version])).toEqual([
      ["openssl-1.0.1f", "openssl", "1.0.1f"],
      ["libxslt", "libxslt", undefined],
      ["*", "*", undefined],
    ]);
    expect(w.rules[0]).toMatchObject({ cve: ["CVE-2014-0160"], issueUrl: ["https://tracker.example/1"], comment: ["backported fix"] });
  });

  it("warns about unknown keys", () => {
    expect(w.warnings).toEqual(['w.toml: ["*"]: unknown key "severity" ignored']);
  });

  it("hides a CVE of the listed version only, until the date", () => {
    const before = new Date("2029-12-31T12:00:00Z");
    const after = new Date("2030-01-01T00:00:01Z");
    expect(whitelisted(w, "openssl", "1.0.1f", "CVE-2014-0160", before)?.key).toBe("openssl-1.0.1f");
    expect(whitelisted(w, "openssl", "1.0.1f", "CVE-2014-0160", after)).toBeUndefined();
    expect(whitelisted(w, "openssl", "1.0.1e", "CVE-2014-0160", before)).toBeUndefined();
    expect(whitelisted(w, "openssl", "1.0.1f", "CVE-2014-0999", before)).toBeUndefined();
  });

  it("hides every CVE of a package without cve list, and one CVE everywhere with *", () => {
    expect(whitelisted(w, "libxslt", "1.1.28", "CVE-2019-0001")?.key).toBe("libxslt");
    expect(whitelisted(w, "redis", "6.2.6", "CVE-2022-0543", new Date("2024-05-31"))?.key).toBe("*");
    expect(whitelisted(w, "redis", "6.2.6", "CVE-2022-0543", new Date("2024-06-02"))).toBeUndefined();
  });

  it("reports a syntax error with file and line", () => {
    expect(() => parseWhitelist('["a-1"]\ncve = ["CVE-1"\n', "/etc/wl.toml")).toThrow(/^\/etc\/wl\.toml:\d+:\d+: whitelist is not valid TOML/);
  });

  it("rejects a bad until", () => {
    expect(() => parseWhitelist('["a-1"]\nuntil = "soon"\n', "x.toml")).toThrow(/x\.toml: \["a-1"\]: until must be a date/);
  });
});
