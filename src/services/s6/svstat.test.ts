import { describe, expect, it } from "vitest";
import { parseSvstat } from "./svstat.js";

describe("parseSvstat", () => {
  it("reads up, wanted up, pid and time in state", () => {
    expect(parseSvstat("web", "true true 4054 -1 NA 12\n")).toEqual({ name: "web", state: "running", pid: 4054, uptime: 12 });
  });
  it("down and wanted down is stopped", () => {
    expect(parseSvstat("web", "false false -1 -1 SIGTERM 3")).toEqual({ name: "web", state: "stopped", pid: null, uptime: 3 });
  });
  it("down but wanted up (dead, s6 retrying) is failed", () => {
    expect(parseSvstat("web", "false true -1 3 NA 0")).toMatchObject({ state: "failed", pid: null });
  });
  it("rejects output it does not understand", () => {
    expect(() => parseSvstat("web", "")).toThrow(/unexpected s6-svstat output/);
  });
});
