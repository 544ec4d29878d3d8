import { describe, expect, it } from "vitest";
import { nextWindow } from "./windows.js";

describe("nextWindow", () => {
  it("is now inside the window, else the next start in the window's time zone", () => {
    const w = { schedule: "Sun 02:00-04:00", timezone: "UTC" };
    expect(nextWindow(new Date("2026-12-01T10:00:00Z"), w).toISOString()).toBe("2026-12-06T02:00:00.000Z");
    expect(nextWindow(new Date("2026-12-06T03:00:00Z"), w).toISOString()).toBe("2026-12-06T03:00:00.000Z");
    expect(nextWindow(new Date("2026-12-06T04:00:00Z"), w).toISOString()).toBe("2026-12-13T02:00:00.000Z");
    // Berlin is UTC+1 in winter, UTC+2 in summer.
    expect(nextWindow(new Date("2026-12-01T10:00:00Z"), { schedule: "daily 01:00-02:00", timezone: "Europe/Berlin" }).toISOString()).toBe("2026-12-02T00:00:00.000Z");
    expect(nextWindow(new Date("2026-07-01T10:00:00Z"), { schedule: "Wed,Sat 03:30-04:00", timezone: "Europe/Berlin" }).toISOString()).toBe("2026-07-04T01:30:00.000Z");
    // A window past midnight that is open now.
    const late = { schedule: "Sat 23:00-01:00", timezone: "UTC" };
    expect(nextWindow(new Date("2026-12-06T00:30:00Z"), late).toISOString()).toBe("2026-12-06T00:30:00.000Z");
  });
});
