import { describe, expect, it } from "vitest";
import { inWindow, nextWindow } from "./window.js";

describe("maintenance windows", () => {
  const sunday = { schedule: "Sun 02:00-04:00", timezone: "UTC" };
  it.each([
    ["2026-11-29T02:00:00Z", true], // Sunday 02:00, the first minute
    ["2026-11-29T03:59:00Z", true],
    ["2026-11-29T04:00:00Z", false], // the end is exclusive
    ["2026-11-29T01:59:00Z", false],
    ["2026-11-30T02:30:00Z", false], // Monday
  ])("Sun 02:00-04:00 UTC at %s → %s", (when, expected) => {
    expect(inWindow(new Date(when), sunday)).toBe(expected);
  });

  it("uses the host's time zone", () => {
    const berlin = { schedule: "Sun 02:00-04:00", timezone: "Europe/Berlin" };
    expect(inWindow(new Date("2026-11-29T01:30:00Z"), berlin)).toBe(true); // 02:30 CET
    expect(inWindow(new Date("2026-11-29T02:30:00Z"), berlin)).toBe(true); // 03:30 CET
    expect(inWindow(new Date("2026-11-29T03:30:00Z"), berlin)).toBe(false); // 04:30 CET
  });

  it("handles windows past midnight and daily windows", () => {
    const late = { schedule: "Sat 23:00-01:00", timezone: "UTC" };
    expect(inWindow(new Date("2026-11-28T23:30:00Z"), late)).toBe(true); // Saturday night
    expect(inWindow(new Date("2026-11-29T00:30:00Z"), late)).toBe(true); // Sunday morning
    expect(inWindow(new Date("2026-11-29T23:30:00Z"), late)).toBe(false); // Sunday night
    expect(inWindow(new Date("2026-11-25T01:15:00Z"), { schedule: "daily 01:00-02:00", timezone: "UTC" })).toBe(true);
    expect(inWindow(new Date("2026-11-25T12:00:00Z"), { schedule: "Mon,Wed 11:00-13:00", timezone: "UTC" })).toBe(true);
  });
});

describe("the next maintenance window", () => {
  const at = (iso: string, schedule: string, timezone = "UTC") => nextWindow(new Date(iso), { schedule, timezone }).toISOString();

  it("is now while the window is open, else the next opening of a listed day", () => {
    expect(at("2026-11-29T02:30:00.000Z", "Sun 02:00-04:00")).toBe("2026-11-29T02:30:00.000Z");
    expect(at("2026-11-27T12:00:00.000Z", "Sun 02:00-04:00")).toBe("2026-11-29T02:00:00.000Z");
    expect(at("2026-11-29T04:00:00.000Z", "Sun 02:00-04:00")).toBe("2026-12-06T02:00:00.000Z");
    expect(at("2026-11-25T12:00:00.000Z", "Mon,Fri 01:00-02:00")).toBe("2026-11-27T01:00:00.000Z");
    expect(at("2026-11-25T01:30:00.000Z", "daily 03:00-04:00")).toBe("2026-11-25T03:00:00.000Z");
  });

  it("opens at the wall-clock time of the host's zone, summer time included", () => {
    // 02:00 in Berlin is 01:00 UTC in winter (CET) and 00:00 UTC in summer (CEST).
    expect(at("2026-11-27T12:00:00.000Z", "Sun 02:00-04:00", "Europe/Berlin")).toBe("2026-11-29T01:00:00.000Z");
    expect(at("2026-07-01T12:00:00.000Z", "Sun 02:00-04:00", "Europe/Berlin")).toBe("2026-07-05T00:00:00.000Z");
    // The Sunday the clocks go forward (29 March 2026, 02:00 → 03:00): a 03:30 window opens at 01:30 UTC.
    expect(at("2026-03-28T12:00:00.000Z", "Sun 03:30-04:30", "Europe/Berlin")).toBe("2026-03-29T01:30:00.000Z");
  });

  it("a time zone the directory would refuse is a coded error, not Intl's RangeError", () => {
    expect(() => inWindow(new Date(), { schedule: "Sun 02:00-04:00", timezone: "Mars/Olympus" })).toThrow(expect.objectContaining({ code: "E_HOST_INVALID", message: expect.stringContaining('unknown time zone "Mars/Olympus"') }));
  });
});
