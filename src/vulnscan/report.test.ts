import { describe, expect, it } from "vitest";
import type { Advisory } from "./match.js";
import { exitCode, toJson, toText, type PackageResult } from "./report.js";

const adv = (id: string, score?: number): Advisory => ({ id, allVersions: false, cpe: "x:y", url: `https://nvd.nist.gov/vuln/detail/${id}`, ...(score ? { cvss: { score, version: "3.1" as const } } : {}) });
const result = (affected: Advisory[], hidden: Advisory[] = []): PackageResult => ({
  name: "redis-6.2.6",
  pname: "redis",
  version: "6.2.6",
  path: "/s/00000000000000000000000000000000-redis-6.2.6",
  patched: [],
  affected,
  whitelisted: hidden.map((a) => ({ ...a, rule: { key: "redis", pname: "redis", file: "w.toml" } })),
});

describe("reports", () => {
  it("exit codes as vulnix", () => {
    expect(exitCode([], { scanned: 0, showWhitelisted: false })).toBe(3);
    expect(exitCode([result([])], { scanned: 1, showWhitelisted: false })).toBe(0);
    expect(exitCode([result([adv("CVE-1", 5)])], { scanned: 1, showWhitelisted: false })).toBe(2);
    expect(exitCode([result([], [adv("CVE-1")])], { scanned: 1, showWhitelisted: false })).toBe(0);
    expect(exitCode([result([], [adv("CVE-1")])], { scanned: 1, showWhitelisted: true })).toBe(1);
  });

  it("JSON has vulnix's fields", () => {
    const [e] = toJson([result([adv("CVE-2022-0543", 10)], [adv("CVE-2023-28856", 6.5)])], false);
    expect(e).toMatchObject({ name: "redis-6.2.6", pname: "redis", version: "6.2.6", affected_by: ["CVE-2022-0543"], whitelisted: ["CVE-2023-28856"], cvss: { "CVE-2022-0543": 10 } });
    expect(toJson([result([], [adv("CVE-1")])], false)).toEqual([]);
    expect(toJson([result([], [adv("CVE-1")])], true)).toHaveLength(1);
  });

  it("text groups by package with links", () => {
    const t = toText([result([adv("CVE-2022-0543", 10)], [adv("CVE-2023-28856", 6.5)])], { showWhitelisted: false, scanned: 3 });
    expect(t).toContain("1 vulnerable store path found (3 scanned).");
    expect(t).toContain("10.0 (v3.1)  https://nvd.nist.gov/vuln/detail/CVE-2022-0543");
    expect(t).toContain("1 whitelisted finding hidden");
    expect(toText([result([], [adv("CVE-2023-28856", 6.5)])], { showWhitelisted: true, scanned: 1 })).toContain('whitelisted by w.toml ["redis"]');
  });
});
