import { describe, expect, it } from "vitest";
import { promote } from "./rollout.js";
import { pause, resume } from "./rollout-control.js";
import type { ChannelRecord, HostState } from "./storage.js";

const channel: ChannelRecord = { name: "stable", canaryShare: 10, createdAt: "t", current: 1, previous: null, rolledBack: false, rollout: null };
const state = (name: string, number: number, lastResult: string): HostState => ({ name, channel: "stable", lastResult, lastReportAt: "t", lastRelease: { channel: "stable", number }, runningRelease: { channel: "stable", number }, lastVulnerabilities: null });
const canaryPhase = () => {
  const c = promote(channel, 2, 100, [], "t");
  return { ...c, rollout: { ...c.rollout!, state: "canary" as const, canaryHosts: ["a", "b"], succeeded: ["a"] } };
};

describe("pause and resume", () => {
  it("a pause halts a canary phase where it is and says who paused it", () => {
    const paused = pause(canaryPhase(), "admin", "2026-12-01T10:00:00Z");
    expect(paused.rollout).toMatchObject({ state: "halted", paused: { by: "admin", at: "2026-12-01T10:00:00Z" }, succeeded: ["a"] });
    expect(() => pause(paused, "admin", "t")).toThrow(/no rollout in its canary phase to pause \(rollout of 2 is halted\)/);
    expect(() => pause(channel, "admin", "t")).toThrow(/no rollout in its canary phase/);
  });

  it("resume goes back to the canary phase, counts canaries that ran the release meanwhile, clears failures", () => {
    const paused = pause(canaryPhase(), "admin", "t");
    const back = resume(paused, [state("a", 2, "switched"), state("b", 1, "unchanged")]);
    expect(back.rollout).toMatchObject({ state: "canary", succeeded: ["a"], failed: [] });
    expect(back.rollout).not.toHaveProperty("paused");
    // b reported success on release 2 while the rollout was paused: resuming completes it.
    expect(resume(paused, [state("a", 2, "switched"), state("b", 2, "unchanged")]).rollout?.state).toBe("complete");
    // b deferred its restart to its window meanwhile: the rollout waits for it, as applyReport would.
    expect(resume(paused, [state("a", 2, "switched"), state("b", 2, "deferred")]).rollout).toMatchObject({ state: "canary", succeeded: ["a"], waiting: ["b"] });
    const failed = { ...canaryPhase(), rollout: { ...canaryPhase().rollout, state: "halted" as const, failed: [{ host: "b", error: "nginx -t failed" }] } };
    expect(resume(failed, [state("b", 2, "failed")]).rollout).toMatchObject({ state: "canary", failed: [] });
    expect(() => resume(canaryPhase(), [])).toThrow(/no halted rollout to resume/);
  });
});
