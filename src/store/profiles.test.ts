import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeTree } from "./nar.js";
import { addGeneration, current, generations, setCurrent } from "./profiles.js";

let state: string;
beforeEach(() => {
  state = fs.mkdtempSync(path.join(os.tmpdir(), "profiles-"));
});
afterEach(() => removeTree(state));

const p1 = "/s/store/00000000000000000000000000000001-system-a";
const p2 = "/s/store/00000000000000000000000000000002-system-b";

describe("profiles", () => {
  it("starts empty", () => {
    expect(generations(state)).toEqual([]);
    expect(current(state)).toBeUndefined();
  });

  it("adds generations without switching, then flips with relative links like Nix", () => {
    const g1 = addGeneration(state, p1);
    expect(g1).toMatchObject({ number: 1, path: p1, current: false });
    expect(fs.readlinkSync(path.join(state, "profiles", "system-1-link"))).toBe(p1);
    expect(current(state)).toBeUndefined();
    setCurrent(state, 1);
    expect(fs.readlinkSync(path.join(state, "profiles", "system"))).toBe("system-1-link");
    const g2 = addGeneration(state, p2);
    expect(g2.number).toBe(2);
    setCurrent(state, 2);
    expect(generations(state).map((g) => [g.number, g.path, g.current])).toEqual([
      [1, p1, false],
      [2, p2, true],
    ]);
    expect(current(state)?.createdAt).toBeInstanceOf(Date);
    // No temp links are left behind by the flips.
    expect(fs.readdirSync(path.join(state, "profiles")).sort()).toEqual(["system", "system-1-link", "system-2-link"]);
  });

  it("returns the current generation unchanged when it already points at the path", () => {
    addGeneration(state, p1);
    setCurrent(state, 1);
    expect(addGeneration(state, p1)).toMatchObject({ number: 1, current: true });
    expect(generations(state)).toHaveLength(1);
  });

  it("never reuses a number: rolling back and re-adding makes a new generation", () => {
    addGeneration(state, p1);
    addGeneration(state, p2);
    setCurrent(state, 1);
    expect(addGeneration(state, p2).number).toBe(3);
  });

  it("keeps profiles apart and refuses unknown generations", () => {
    addGeneration(state, p1, "web");
    expect(generations(state, "system")).toEqual([]);
    expect(generations(state, "web")).toHaveLength(1);
    expect(() => setCurrent(state, 9)).toThrow(expect.objectContaining({ code: "E_NO_GENERATION" }));
  });

  it("makes every generation a gc root through gcroots/profiles", () => {
    addGeneration(state, p1);
    expect(fs.readlinkSync(path.join(state, "gcroots", "profiles"))).toBe("../profiles");
  });
});
