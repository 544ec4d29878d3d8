import { describe, expect, it } from "vitest";
import { compareVersions, splitName, splitVersion } from "./version.js";

describe("Nix version order", () => {
  it("splits into components as Nix does", () => {
    expect(splitVersion("1.0.1f")).toEqual(["1", "0", "1", "f"]);
    expect(splitVersion("2.3pre1")).toEqual(["2", "3", "pre", "1"]);
    expect(splitVersion("9.7p1")).toEqual(["9", "7", "p", "1"]);
  });

  // The cases of Nix's own tests (tests/lang/eval-okay-versions.nix).
  it.each([
    ["1.0", "2.3", -1],
    ["2.1", "2.3", -1],
    ["2.3", "2.3", 0],
    ["2.5", "2.3", 1],
    ["3.1", "2.3", 1],
    ["2.3.1", "2.3", 1],
    ["2.3.1", "2.3a", 1],
    ["2.3pre1", "2.3", -1],
    ["2.3pre3", "2.3pre12", -1],
    ["2.3a", "2.3c", -1],
    ["2.3pre1", "2.3c", -1],
    ["2.3pre1", "2.3q", -1],
    ["1.0.1f", "1.0.1g", -1],
    ["1.0.1", "1.0.1f", -1],
    ["10", "9", 1],
    ["20240101000000000000000001", "20240101000000000000000002", -1],
  ])("compareVersions(%s, %s) = %i", (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
    expect(compareVersions(b, a)).toBe(want === 0 ? 0 : -want);
  });

  it("ignores trailing zeros: 153.0 = 153.0.0 = 153", () => {
    expect(compareVersions("153.0", "153.0.0")).toBe(0);
    expect(compareVersions("153", "153.0.0")).toBe(0);
    expect(compareVersions("153.0.1", "153.0")).toBe(1);
    expect(compareVersions("1.0", "1.0a")).toBe(-1);
  });

  it("splits names at the first dash followed by a digit, dropping output suffixes", () => {
    expect(splitName("openssl-1.0.1f")).toEqual({ name: "openssl-1.0.1f", pname: "openssl", version: "1.0.1f" });
    expect(splitName("openssl-3.0.13-dev")).toMatchObject({ pname: "openssl", version: "3.0.13" });
    expect(splitName("python3.11-pyyaml-6.0.1")).toMatchObject({ pname: "python3.11-pyyaml", version: "6.0.1" });
    expect(splitName("source")).toMatchObject({ pname: "source", version: "" });
    expect(splitName("system-web1")).toMatchObject({ version: "" });
  });
});
