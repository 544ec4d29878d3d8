import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedStore } from "./engines/embedded/index.js";
import { collectGarbage } from "./gc.js";
import { removeTree, type NarNode } from "./nar.js";
import { addGeneration, setCurrent } from "./profiles.js";
import { addRoot, findRoots } from "./roots.js";

const file = (s: string): NarNode => ({ type: "regular", executable: false, contents: Buffer.from(s) });
const dir = (entries: Record<string, NarNode>): NarNode => ({ type: "directory", entries: new Map(Object.entries(entries)) });
let state: string;
let store: EmbeddedStore;
beforeEach(() => {
  state = fs.mkdtempSync(path.join(os.tmpdir(), "gc-"));
  store = new EmbeddedStore({ stateDir: state });
});
afterEach(() => removeTree(state));

describe("roots", () => {
  it("resolves direct links, links into a path, nested dirs and link chains", async () => {
    const a = await store.addTree("a", dir({ bin: dir({ sh: file("sh") }) }), []);
    const b = await store.addTree("b", file("b"), []);
    const c = await store.addTree("c", file("c"), []);
    addRoot(state, "direct", a);
    fs.symlinkSync(path.join(b, "."), path.join(state, "gcroots", "inside"));
    fs.symlinkSync(path.join(a, "bin", "sh"), path.join(state, "gcroots", "file-in-a"));
    fs.mkdirSync(path.join(state, "elsewhere"));
    fs.symlinkSync(c, path.join(state, "elsewhere", "c-link"));
    fs.mkdirSync(path.join(state, "gcroots", "nested"));
    fs.symlinkSync("../../elsewhere/c-link", path.join(state, "gcroots", "nested", "chain"));
    fs.symlinkSync(path.join(store.storeDir, "00000000000000000000000000000000-gone"), path.join(state, "gcroots", "dangling"));
    expect(findRoots(state, store.storeDir)).toEqual([a, b, c].sort());
  });

  it("replaces a root atomically and refuses names escaping gcroots", async () => {
    const a = await store.addTree("a", file("a"), []);
    const b = await store.addTree("b", file("b"), []);
    addRoot(state, "userscan/home", a);
    addRoot(state, "userscan/home", b);
    expect(findRoots(state, store.storeDir)).toEqual([b]);
    expect(fs.readdirSync(path.join(state, "gcroots", "userscan"))).toEqual(["home"]);
    expect(() => addRoot(state, "../evil", a)).toThrow(expect.objectContaining({ code: "E_USAGE" }));
  });
});

describe("collectGarbage", () => {
  it("keeps everything reachable from roots and profile generations, deletes the rest", async () => {
    const lib = await store.addTree("lib", file("lib"), []);
    const nginx = await store.addTree("nginx-conf", dir({ "nginx.conf": file("x") }), [lib]);
    const sys1 = await store.addTree("system-web1", file("1"), [nginx]);
    const sys2 = await store.addTree("system-web1", file("2"), []);
    const pinned = await store.addTree("pinned", file("p"), []);
    const loose = await store.addTree("loose", file("l"), [lib]);
    addGeneration(state, sys1);
    setCurrent(state, addGeneration(state, sys2).number);
    addRoot(state, "manual", pinned);

    const dry = await collectGarbage(state, { dryRun: true });
    expect(dry.deleted).toEqual([loose]);
    expect(store.has(loose)).toBe(true);

    const { deleted, kept } = await collectGarbage(state);
    expect(deleted).toEqual([loose]);
    expect(kept.sort()).toEqual([lib, nginx, sys1, sys2, pinned].sort());
    expect(store.list().sort()).toEqual(kept.sort());
    // Dropping the old generation's link makes its closure garbage.
    fs.unlinkSync(path.join(state, "profiles", "system-1-link"));
    expect((await collectGarbage(state)).deleted.sort()).toEqual([lib, nginx, sys1].sort());
  });

  it("keeps profile generations even if the gcroots/profiles link is lost", async () => {
    const sys = await store.addTree("system-web1", file("1"), []);
    setCurrent(state, addGeneration(state, sys).number);
    fs.unlinkSync(path.join(state, "gcroots", "profiles"));
    expect(await collectGarbage(state)).toEqual({ deleted: [], kept: [sys] });
  });

  it("deletes read-only trees", async () => {
    const p = await store.addTree("tree", dir({ sub: dir({ f: file("f") }) }), []);
    expect(fs.statSync(path.join(p, "sub")).mode & 0o777).toBe(0o555);
    expect((await collectGarbage(state)).deleted).toEqual([p]);
    expect(fs.existsSync(p)).toBe(false);
    expect(fs.readdirSync(store.storeDir)).toEqual([]);
  });
});
