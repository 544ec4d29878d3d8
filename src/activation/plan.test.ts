import { describe, expect, it } from "vitest";
import type { ComponentMeta } from "../generation/metadata.js";
import { diffComponent } from "./plan.js";

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
