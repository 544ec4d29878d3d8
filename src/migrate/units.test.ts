import { describe, expect, it } from "vitest";
import { nginxSeconds, normalizeNginxSize, normalizePg, normalizeRedis } from "./units.js";

describe("value normalisation", () => {
  it("PostgreSQL: memory and time units, booleans, quoting-free numbers", () => {
    expect(normalizePg("16MB")).toBe(normalizePg("16384kB"));
    expect(normalizePg("2GB")).toBe(normalizePg("2048MB"));
    expect(normalizePg("1min")).toBe(normalizePg("60s"));
    expect(normalizePg("500ms")).not.toBe(normalizePg("5s"));
    expect(normalizePg("on", "BOOLEAN")).toBe(normalizePg("true", "BOOLEAN"));
    expect(normalizePg("1", "BOOLEAN")).toBe("on");
    expect(normalizePg("Off")).toBe("off");
    expect(normalizePg("0.90")).toBe(normalizePg("0.9"));
    expect(normalizePg("iso, mdy")).toBe("iso, mdy");
  });

  it("nginx: sizes and seconds", () => {
    expect(normalizeNginxSize("1m")).toBe(normalizeNginxSize("1024k"));
    expect(normalizeNginxSize("32M")).toBe("33554432");
    expect(nginxSeconds("75")).toBe(75);
    expect(nginxSeconds("1m15s")).toBe(75);
    expect(nginxSeconds("500ms")).toBeUndefined();
  });

  it("Redis: 1k = 1000, 1kb = 1024, yes/no case-insensitive", () => {
    expect(normalizeRedis("256mb")).toBe("268435456");
    expect(normalizeRedis("1k")).toBe("1000");
    expect(normalizeRedis("YES")).toBe("yes");
  });
});
