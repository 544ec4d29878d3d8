import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StoreEngine } from "./engine.js";
import { readTree, removeTree, type NarNode } from "./nar.js";

/** One engine under test: `realPath` maps a store path to where its files really are. */
export interface StoreUnderTest {
  engine: StoreEngine;
  realPath(storePath: string): string;
  cleanup(): void | Promise<void>;
}

export interface ConformanceOptions {
  name: string;
  create(): StoreUnderTest | Promise<StoreUnderTest>;
  /** A variant may skip a test only by naming it and saying why. */
  skip?: { reason: string; tests: string[] }[];
}

const file = (s: string, executable = false): NarNode => ({ type: "regular", executable, contents: Buffer.from(s) });
const dir = (entries: Record<string, NarNode>): NarNode => ({ type: "directory", entries: new Map(Object.entries(entries)) });
const sample = (): NarNode =>
  dir({ "nginx.conf": file("events {}\n"), bin: dir({ run: file("#!/bin/sh\n", true) }), current: { type: "symlink", target: "nginx.conf" } });

/**
 * The contract of {@link StoreEngine}, run against one engine. Both engines run it, so they
 * agree on paths, idempotence, references and gc.
 *
 * @example runStoreConformance({ name: "embedded", create: () => ({ engine, realPath: (p) => p, cleanup }) })
 */
export function runStoreConformance(opts: ConformanceOptions): void {
  const skipped = new Map(opts.skip?.flatMap((s) => s.tests.map((t) => [t, s.reason] as const)));
  const test = (title: string, fn: () => Promise<void>) =>
    skipped.has(title) ? it.skip(`${title} (skipped: ${skipped.get(title)})`, fn) : it(title, fn);

  describe(`store engine conformance: ${opts.name}`, () => {
    let s: StoreUnderTest;
    let store: StoreEngine;
    beforeEach(async () => {
      s = await opts.create();
      store = s.engine;
    });
    afterEach(async () => s.cleanup());

    test("computePath agrees with addTree and writes nothing", async () => {
      const expected = store.computePath("site", sample(), []);
      expect(store.has(expected)).toBe(false);
      expect(await store.addTree("site", sample(), [])).toBe(expected);
      expect(store.has(expected)).toBe(true);
      expect(path.dirname(expected)).toBe(store.storeDir);
    });

    test("addTree is idempotent", async () => {
      const a = await store.addTree("site", sample(), []);
      const b = await store.addTree("site", sample(), []);
      expect(b).toBe(a);
      expect(store.list().filter((p) => p === a)).toHaveLength(1);
    });

    test("addPath stores a file-system tree under its content address", async () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "conformance-"));
      try {
        fs.mkdirSync(path.join(tmp, "conf.d"));
        fs.writeFileSync(path.join(tmp, "conf.d", "a.conf"), "a\n");
        const p = await store.addPath(path.join(tmp, "conf.d"));
        expect(p).toBe(store.computePath("conf.d", readTree(path.join(tmp, "conf.d")), []));
        expect(await store.addPath(path.join(tmp, "conf.d"), { name: "renamed" })).toMatch(/-renamed$/);
        expect(fs.readFileSync(path.join(s.realPath(p), "a.conf"), "utf8")).toBe("a\n");
      } finally {
        removeTree(tmp);
      }
    });

    test("stores a bare symlink, even a dangling one, and the longest allowed name", async () => {
      const link = await store.addTree("current", { type: "symlink", target: "/nonexistent/target" }, []);
      expect(store.has(link)).toBe(true);
      expect(fs.readlinkSync(s.realPath(link))).toBe("/nonexistent/target");
      expect(await store.addTree("current", { type: "symlink", target: "/nonexistent/target" }, [])).toBe(link);
      expect(store.has(await store.addTree("n".repeat(211), file("long"), [link]))).toBe(true);
    });

    test("added paths are read-only", async () => {
      const p = s.realPath(await store.addTree("site", sample(), []));
      expect(fs.statSync(p).mode & 0o777).toBe(0o555);
      expect(fs.statSync(path.join(p, "nginx.conf")).mode & 0o777).toBe(0o444);
      expect(fs.statSync(path.join(p, "bin", "run")).mode & 0o777).toBe(0o555);
      expect(fs.lstatSync(path.join(p, "current")).isSymbolicLink()).toBe(true);
    });

    test("records references and their closure", async () => {
      const leaf = await store.addTree("leaf", file("leaf"), []);
      const mid = await store.addTree("mid", file("mid"), [leaf]);
      const top = await store.addTree("top", file("top"), [mid]);
      expect(store.references(top)).toEqual([mid]);
      expect(store.references(leaf)).toEqual([]);
      expect([...store.closure([top])].sort()).toEqual([leaf, mid, top].sort());
      expect(top).toBe(store.computePath("top", file("top"), [mid]));
      expect(top).not.toBe(store.computePath("top", file("top"), []));
    });

    test("refuses a reference that is not a valid path", async () => {
      const ghost = `${store.storeDir}/00000000000000000000000000000000-ghost`;
      await expect(store.addTree("x", file("x"), [ghost])).rejects.toMatchObject({ code: "E_STORE_MISSING" });
    });

    test("refuses an invalid name", async () => {
      await expect(store.addTree("bad name", file("x"), [])).rejects.toMatchObject({ code: "E_STORE_NAME" });
    });

    test("unknown paths are not valid", async () => {
      const ghost = `${store.storeDir}/00000000000000000000000000000000-ghost`;
      expect(store.has(ghost)).toBe(false);
      expect(store.has("/etc/passwd")).toBe(false);
      expect(() => store.references(ghost)).toThrow(expect.objectContaining({ code: "E_STORE_MISSING" }));
    });

    test("lists every valid path", async () => {
      const a = await store.addTree("a", file("a"), []);
      const b = await store.addTree("b", file("b"), [a]);
      expect(store.list()).toEqual(expect.arrayContaining([a, b]));
    });

    test("gc keeps what roots reach and deletes the rest", async () => {
      const leaf = await store.addTree("leaf", file("leaf"), []);
      const top = await store.addTree("top", file("top"), [leaf]);
      const loose = await store.addTree("loose", file("loose"), []);
      const { deleted, kept } = await store.gc([top]);
      expect(deleted).toContain(loose);
      expect(deleted).not.toContain(top);
      expect(kept).toEqual(expect.arrayContaining([leaf, top]));
      expect(store.has(loose)).toBe(false);
      expect(fs.existsSync(s.realPath(loose))).toBe(false);
      expect(store.has(leaf) && store.has(top)).toBe(true);
      // Added again after deletion, it comes back under the same name.
      expect(await store.addTree("loose", file("loose"), [])).toBe(loose);
    });

    test("a generation link under profilesDir keeps its path through gc until it is removed", async () => {
      const leaf = await store.addTree("leaf", file("leaf"), []);
      const gen = await store.addTree("system-test", file("gen"), [leaf]);
      fs.mkdirSync(path.join(store.profilesDir, "per-user", "alice"), { recursive: true });
      const link = path.join(store.profilesDir, "per-user", "alice", "profile-1-link");
      fs.symlinkSync(gen, link);
      await store.gc([]);
      expect(store.has(gen) && store.has(leaf)).toBe(true);
      fs.rmSync(link);
      expect((await store.gc([])).deleted).toEqual(expect.arrayContaining([gen, leaf]));
      expect(store.has(gen)).toBe(false);
    });

    test("linkRoot makes a link anywhere a root for as long as it exists", async () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "conformance-root-"));
      try {
        const p = await store.addTree("rooted", file("rooted"), []);
        const link = path.join(tmp, "profiles", "per-user", "bob", "profile-1-link");
        await store.linkRoot(link, p);
        expect(fs.readlinkSync(link)).toBe(p);
        await store.gc([]);
        expect(store.has(p)).toBe(true);
        fs.rmSync(link);
        expect((await store.gc([])).deleted).toContain(p);
        const ghost = `${store.storeDir}/00000000000000000000000000000000-ghost`;
        await expect(store.linkRoot(link, ghost)).rejects.toMatchObject({ code: "E_STORE_MISSING" });
      } finally {
        removeTree(tmp);
      }
    });
  });
}
