import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ComponentMeta } from "../generation/metadata.js";
import { diffComponent, makePlan } from "./plan.js";

const base: ComponentMeta = {
  name: "svc",
  settings: { a: { value: 1, change: "reload" }, b: { value: "x", change: "restart" } },
  inputs: { "snippet:s.conf": { label: "snippet s.conf", hash: "h1", change: "reload" } },
  service: { name: "svc", command: ["/bin/svc", "-c", "/conf"], reloadSignal: "HUP" },
  program: { path: "/bin/svc", version: "1.0", sha256: "a".repeat(64) },
};
const withChanges = (patch: Partial<ComponentMeta>): ComponentMeta => ({ ...base, ...patch });

describe("diffComponent", () => {
  it("finds nothing between equal components", () => {
    expect(diffComponent(base, base)).toEqual({ action: "none", why: [] });
  });

  it("reloads for a reloadable setting and names old and new value", () => {
    expect(diffComponent(base, withChanges({ settings: { ...base.settings, a: { value: 2, change: "reload" } } }))).toEqual({ action: "reload", why: ["a: 1 → 2 (reload)"] });
  });

  it("restarts once when reloadable and restart-only changes mix", () => {
    const to = withChanges({ settings: { a: { value: 2, change: "reload" }, b: { value: "y", change: "restart" } } });
    expect(diffComponent(base, to)).toEqual({ action: "restart", why: ["a: 1 → 2 (reload)", "b: x → y (restart)"] });
  });

  it("classifies snippets added, removed and changed", () => {
    const to = withChanges({ inputs: { "snippet:t.conf": { label: "snippet t.conf", hash: "h2", change: "reload" } } });
    expect(diffComponent(base, to)).toEqual({ action: "reload", why: ["snippet s.conf removed (reload)", "snippet t.conf added (reload)"] });
  });

  it("restarts for a new program or a changed service definition", () => {
    const program = diffComponent(base, withChanges({ program: { ...base.program, version: "1.1", sha256: "b".repeat(64) } }));
    expect(program.action).toBe("restart");
    expect(program.why[0]).toMatch(/^program: \/bin\/svc 1\.0 \(aaaaaaaaaaaa\) → \/bin\/svc 1\.1 \(bbbbbbbbbbbb\) \(restart\)$/);
    const command = diffComponent(base, withChanges({ service: { ...base.service, command: ["/bin/svc", "-v"] } }));
    expect(command).toEqual({ action: "restart", why: ["service definition: command changed (restart)"] });
  });
});

describe("makePlan: a new binary, and what a restart loses", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-plan-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A component store path holding `meta`. */
  const stored = (name: string, meta: ComponentMeta) => {
    const p = path.join(dir, name);
    mkdirSync(p, { recursive: true });
    writeFileSync(path.join(p, "component.json"), JSON.stringify(meta));
    return p;
  };
  const nginx: ComponentMeta = {
    ...base, name: "nginx",
    service: { name: "nginx", command: ["/usr/sbin/nginx"], reloadSignal: "HUP", daemon: { command: ["/usr/sbin/nginx"], pidFile: "/run/n.pid" }, binarySwap: { start: "USR2", drain: "WINCH", stop: "QUIT" } },
    program: { path: "/usr/sbin/nginx", version: "1.22.1", sha256: "a".repeat(64) },
  };
  const upgraded = { ...nginx, program: { ...nginx.program, sha256: "b".repeat(64) } };
  const runningNginx = new Map([["nginx", { name: "nginx", state: "running" as const, pid: 7 }]]);
  const follows = { binarySwapUnsupported: () => undefined };
  const cannot = { binarySwapUnsupported: () => "this manager cannot follow it" };

  it("swaps a new binary at the same path where the manager follows it", () => {
    const plan = makePlan({ nginx: stored("a", nginx) }, { nginx: stored("b", upgraded) }, runningNginx, follows);
    expect(plan).toMatchObject([{ service: "nginx", action: "swap" }]);
    expect(plan[0]!.why[0]).toMatch(/\(swap: USR2 → WINCH → QUIT, no connection dropped\)$/);
  });

  it("restarts where the manager cannot, and says why", () => {
    const plan = makePlan({ nginx: stored("a", nginx) }, { nginx: stored("b", upgraded) }, runningNginx, cannot);
    expect(plan).toMatchObject([{ service: "nginx", action: "restart" }]);
    expect(plan[0]!.why).toContain("no binary swap: this manager cannot follow it");
  });

  it("restarts a binary at another path, or one whose definition changed too, with no swap offered", () => {
    const moved = { ...upgraded, program: { ...upgraded.program, path: "/opt/nginx" } };
    expect(makePlan({ nginx: stored("a", nginx) }, { nginx: stored("c", moved) }, runningNginx, follows)[0]!.action).toBe("restart");
    const changed = { ...upgraded, service: { ...upgraded.service, command: ["/usr/sbin/nginx", "-q"] } };
    const plan = makePlan({ nginx: stored("a", nginx) }, { nginx: stored("d", changed) }, runningNginx, follows);
    expect(plan[0]!.action).toBe("restart");
    expect(plan[0]!.why.join("; ")).not.toContain("swap");
  });

  it("says what a restart loses where the component knows it (memcached: the cache)", () => {
    const mc: ComponentMeta = { ...base, name: "memcached", service: { name: "memcached", command: ["/usr/bin/memcached", "-m", "64"] }, settings: { memory: { value: 64, change: "restart" } } };
    const bigger = { ...mc, service: { ...mc.service, command: ["/usr/bin/memcached", "-m", "128"] }, settings: { memory: { value: 128, change: "restart" as const } } };
    const plan = makePlan({ memcached: stored("m1", mc) }, { memcached: stored("m2", bigger) }, new Map([["memcached", { name: "memcached", state: "running" as const, pid: 9 }]]));
    expect(plan[0]).toMatchObject({ action: "restart" });
    expect(plan[0]!.why.at(-1)).toBe("a restart: the cache is emptied (memcached keeps items only in memory)");
  });
});
