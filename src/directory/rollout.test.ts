import { describe, expect, it } from "vitest";
import { etagMatches, mergeSettings } from "./config.js";
import { applyReport, canaryScore, continueRollout, effectiveRelease, pickCanaries, promote } from "./rollout.js";
import { parseListen } from "./serve.js";
import type { ChannelRecord } from "./storage.js";

const channel: ChannelRecord = { name: "stable", canaryShare: 10, createdAt: "t", current: 1, previous: null, rolledBack: false, rollout: null };

describe("rollout rules", () => {
  it("canaries: deterministic by name, about the share, at least one", () => {
    const hosts = Array.from({ length: 1000 }, (_, i) => `h${i}`);
    expect(canaryScore("web1")).toBe(canaryScore("web1"));
    const picked = pickCanaries(hosts, 10);
    expect(picked.length).toBeGreaterThan(60);
    expect(picked.length).toBeLessThan(140);
    expect(pickCanaries(hosts, 10)).toEqual(picked);
    const few = ["a", "b"].filter((h) => canaryScore(h) >= 1);
    expect(pickCanaries(few, 1)).toHaveLength(1);
    expect(pickCanaries([], 50)).toEqual([]);
  });

  it("promote during an unfinished rollout keeps the previous release for the rest", () => {
    const first = promote(channel, 2, 50, ["x1", "x2", "x3", "x4"], "t");
    expect(first).toMatchObject({ current: 2, previous: 1 });
    const again = promote(first, 3, 50, ["x1", "x2", "x3", "x4"], "t");
    expect(again).toMatchObject({ current: 3, previous: 1 });
    const outsider = ["x1", "x2", "x3", "x4"].find((h) => !again.rollout!.canaryHosts.includes(h));
    if (outsider) expect(effectiveRelease(again, outsider)).toBe(1);
    expect(promote(channel, 2, 100, ["x1"], "t").rollout?.state).toBe("complete");
    expect(() => promote(channel, 1, 10, [], "t")).toThrow(/already/);
  });

  it("a report counts only for a canary and the rollout's release", () => {
    const c = promote(channel, 2, 100, [], "t");
    const canary = { ...c, rollout: { ...c.rollout!, state: "canary" as const, canaryHosts: ["a", "b"] } };
    const ok = (host: string, number: number) => applyReport(canary, host, { result: "unchanged", release: { channel: "stable", number }, deferred: [] } as never);
    expect(ok("z", 2)).toBeNull();
    expect(ok("a", 1)).toBeNull();
    expect(ok("a", 2)?.rollout).toMatchObject({ state: "canary", succeeded: ["a"] });
    expect(applyReport(canary, "b", { result: "stale", release: { channel: "stable", number: 2 }, deferred: [] } as never)?.rollout).toMatchObject({ state: "halted", failed: [{ host: "b", error: "stale" }] });
  });

  it("a canary that deferred a restart waits; it succeeds once it applied everything; an admin may continue", () => {
    const c = promote(channel, 2, 100, [], "t");
    const canary: ChannelRecord = { ...c, rollout: { ...c.rollout!, state: "canary", canaryHosts: ["a", "b"] } };
    const release = { channel: "stable", number: 2 };
    const restart = [{ service: "postgresql", action: "restart" as const, why: ["shared_buffers"] }];
    const deferred = applyReport(canary, "a", { result: "deferred", release, deferred: restart } as never)!;
    expect(deferred.rollout).toMatchObject({ state: "canary", succeeded: [], waiting: ["a"] });
    expect(applyReport(deferred, "a", { result: "deferred", release, deferred: restart } as never)).toBeNull();
    const b = applyReport(deferred, "b", { result: "switched", release, deferred: [] } as never)!;
    expect(b.rollout).toMatchObject({ state: "canary", succeeded: ["b"], waiting: ["a"] });
    // The window came: the restart ran.
    expect(applyReport(b, "a", { result: "switched", release, deferred: [] } as never)?.rollout).toMatchObject({ state: "complete", waiting: [], succeeded: ["b", "a"] });
    expect(continueRollout(b, "now").rollout).toMatchObject({ state: "complete", forcedAt: "now", waiting: ["a"] });
    expect(() => continueRollout(continueRollout(b, "now"), "later")).toThrow(/is complete: nothing to continue/);
    expect(() => continueRollout({ ...b, rollout: { ...b.rollout!, state: "halted" } }, "now")).toThrow(/halted by a failed canary/);
  });
});

describe("config helpers", () => {
  it("merges role defaults in role order, then the host's own settings, per component", () => {
    const defaults = { web: { nginx: { a: 1, b: 1 } }, cache: { nginx: { b: 2 }, redis: { maxmemory: "1gb" } } };
    expect(mergeSettings(defaults, ["web", "cache", "unknown"], { nginx: { c: true } })).toEqual({ nginx: { a: 1, b: 2, c: true }, redis: { maxmemory: "1gb" } });
    expect(mergeSettings(undefined, ["web"], {})).toEqual({});
  });

  it("If-None-Match: lists, weak form, star", () => {
    expect(etagMatches('"a", "b"', '"b"')).toBe(true);
    expect(etagMatches('W/"b"', '"b"')).toBe(true);
    expect(etagMatches("*", '"b"')).toBe(true);
    expect(etagMatches('"c"', '"b"')).toBe(false);
    expect(etagMatches(undefined, '"b"')).toBe(false);
  });

  it("--listen accepts HOST:PORT, [V6]:PORT, :PORT and PORT", () => {
    expect(parseListen("0.0.0.0:80")).toEqual({ host: "0.0.0.0", port: 80 });
    expect(parseListen("[::1]:8470")).toEqual({ host: "::1", port: 8470 });
    expect(parseListen(":9000")).toEqual({ host: "127.0.0.1", port: 9000 });
    expect(parseListen("9000")).toEqual({ host: "127.0.0.1", port: 9000 });
    expect(() => parseListen("nope")).toThrow(/--listen/);
  });
});
