import { describe, expect, it } from "vitest";
import { resolveKind } from "./index.js";

describe("resolveKind", () => {
  it("an explicit kind wins over the environment", async () => {
    expect(await resolveKind("s6", "systemd")).toBe("s6");
    expect(await resolveKind("systemd", "s6")).toBe("systemd");
  });
  it("$CONGRUENT_SERVICE_MANAGER decides for auto", async () => {
    expect(await resolveKind("auto", "systemd")).toBe("systemd");
    expect(await resolveKind("auto", "s6")).toBe("s6");
  });
  it("rejects an unknown $CONGRUENT_SERVICE_MANAGER", async () => {
    await expect(resolveKind("auto", "runit")).rejects.toMatchObject({ code: "E_USAGE" });
  });
  it("detects s6 where systemd is not PID 1 (this machine)", async () => {
    const { existsSync, readFileSync } = await import("node:fs");
    const pid1 = existsSync("/run/systemd/system") && readFileSync("/proc/1/comm", "utf8").trim() === "systemd";
    expect(await resolveKind("auto", undefined)).toBe(pid1 ? "systemd" : "s6");
  });
});
