import { describe, expect, it } from "vitest";
import type { StoredReport } from "../directory/api.js";
import { diffRuns } from "./run-diff.js";

const run = (id: number, extra: Partial<StoredReport>): StoredReport => ({
  id,
  host: "web1",
  receivedAt: "2026-12-01T10:00:00.000Z",
  generation: "/var/lib/congruent/store/a-system-web1",
  release: { channel: "stable", number: 1 },
  result: "unchanged",
  plan: [],
  deferred: [],
  durations: {},
  services: [{ name: "nginx", state: "running", pid: 100 }],
  warnings: [],
  startedAt: "",
  finishedAt: "",
  ...extra,
});

describe("diffRuns", () => {
  it("lines up two runs field by field, older first, and marks what changed", () => {
    const newer = run(7, { result: "switched", release: { channel: "stable", number: 2 }, plan: [{ service: "nginx", action: "reload", why: ["worker_processes: 1 → 2 (reload)"] }], deferred: [{ service: "postgresql", action: "restart", why: ["shared_buffers: 128MB → 1GB (restart)"] }] });
    const d = diffRuns(newer, run(3, {}));
    expect([d.a.id, d.b.id]).toEqual([3, 7]);
    expect(d.rows.filter((r) => !r.same).map((r) => [r.what, r.a, r.b])).toEqual([
      ["result", "unchanged", "switched"],
      ["release", "stable#1", "stable#2"],
      ["plan: nginx", "none", "reload\n  worker_processes: 1 → 2 (reload)"],
      ["waits for window: postgresql", "none", "restart\n  shared_buffers: 128MB → 1GB (restart)"],
    ]);
    expect(d.rows.find((r) => r.what === "service: nginx")).toEqual({ what: "service: nginx", a: "running, pid 100", b: "running, pid 100", same: true });
  });
});
