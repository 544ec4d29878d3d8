import { describe, expect, it } from "vitest";
import { splitPf, upstreamVersion } from "./atom.js";

describe("splitPf", () => {
  it.each([
    ["nginx-1.24.0-r1", "nginx", "1.24.0-r1"],
    ["postgresql-15.4", "postgresql", "15.4"],
    ["sudo-1.9.14_p3", "sudo", "1.9.14_p3"],
    ["bash-5.1_p16-r6", "bash", "5.1_p16-r6"],
    ["ncurses-6.4_p20230401", "ncurses", "6.4_p20230401"],
    ["font-adobe-100dpi-1.0.3", "font-adobe-100dpi", "1.0.3"],
    ["python-3.11.5", "python", "3.11.5"],
    ["nginx-0-r2", "nginx", "0-r2"],
    ["openssl-1.1.1w", "openssl", "1.1.1w"],
    ["gcc-13.2.1_p20230826", "gcc", "13.2.1_p20230826"],
  ])("%s → %s %s", (pf, name, version) => {
    expect(splitPf(pf)).toEqual({ name, version });
  });

  it("refuses what is no package-version", () => {
    expect(splitPf("nginx")).toBeUndefined();
    expect(splitPf("nginx-latest")).toBeUndefined();
  });

  it("drops the Gentoo revision for the upstream version", () => {
    expect(upstreamVersion("1.24.0-r1")).toBe("1.24.0");
  });
});
