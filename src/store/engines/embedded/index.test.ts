import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeTree, type NarNode } from "../../nar.js";
import { EmbeddedStore } from "./index.js";
import { STALE_TEMP_MS } from "./sweep.js";
import { verifyStore } from "./verify.js";

const file = (s: string): NarNode => ({ type: "regular", executable: false, contents: Buffer.from(s) });
let stateDir: string;
let store: EmbeddedStore;

beforeEach(() => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "embedded-"));
  store = new EmbeddedStore({ stateDir });
});
afterEach(() => removeTree(stateDir));

/** Back-date a file so the sweep treats it as left over from a crash. */
function age(p: string): void {
  const old = new Date(Date.now() - STALE_TEMP_MS - 60_000);
  fs.utimesSync(p, old, old);
}

describe("embedded store", () => {
  it("lays paths out under <state>/store with metadata in <state>/db/info", async () => {
    const p = await store.addTree("motd", file("hi\n"), []);
    expect(path.dirname(p)).toBe(path.join(stateDir, "store"));
    const info = JSON.parse(fs.readFileSync(path.join(stateDir, "db", "info", `${path.basename(p)}.json`), "utf8"));
    expect(info).toMatchObject({ path: p, references: [], narSize: 120 });
    expect(info.narHash).toMatch(/^sha256:[0-9a-df-np-sv-z]{52}$/);
    expect(fs.readdirSync(path.join(stateDir, "store"))).toEqual([path.basename(p)]);
  });

  it("takes the fast path without rewriting an existing path", async () => {
    const p = await store.addTree("motd", file("hi\n"), []);
    const before = fs.statSync(p).ctimeMs;
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.addTree("motd", file("hi\n"), [])).toBe(p);
    expect(fs.statSync(p).ctimeMs).toBe(before);
  });

  it("survives a crash mid-add: the temp dir is not a path and gc removes it", async () => {
    const final = store.computePath("site", file("x"), []);
    const tmp = path.join(stateDir, "store", `.tmp-dead-${path.basename(final)}`);
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, "half"), "half", { mode: 0o444 });
    fs.chmodSync(tmp, 0o555);
    expect(store.has(tmp)).toBe(false);
    expect(store.has(final)).toBe(false);
    expect(store.list()).toEqual([]);
    // A young temp dir may be another process's add in flight: left alone.
    expect((await store.gc([])).deleted).toEqual([]);
    expect(fs.existsSync(tmp)).toBe(true);
    age(tmp);
    await store.gc([]);
    expect(fs.existsSync(tmp)).toBe(false);
    expect(await store.addTree("site", file("x"), [])).toBe(final);
  });

  it("survives a crash after the metadata was written: orphan metadata is swept", async () => {
    const p = await store.addTree("orphan", file("o"), []);
    const meta = path.join(stateDir, "db", "info", `${path.basename(p)}.json`);
    removeTree(p); // as if the rename never happened
    expect(store.has(p)).toBe(false);
    await store.gc([]);
    expect(fs.existsSync(meta)).toBe(true);
    age(meta);
    await store.gc([]);
    expect(fs.existsSync(meta)).toBe(false);
  });

  it("treats a store entry without metadata as invalid and gc removes it", async () => {
    const p = await store.addTree("x", file("x"), []);
    fs.rmSync(path.join(stateDir, "db", "info", `${path.basename(p)}.json`));
    expect(store.has(p)).toBe(false);
    await store.gc([]);
    expect(fs.existsSync(p)).toBe(false);
  });

  it("roots a link outside the state through <state>/gcroots/auto, removed by gc once the link is gone", async () => {
    const p = await store.addTree("x", file("x"), []);
    const link = path.join(stateDir, "..", `${path.basename(stateDir)}-elsewhere`, "profile-1-link");
    await store.linkRoot(link, p);
    const auto = path.join(stateDir, "gcroots", "auto");
    expect(fs.readdirSync(auto).map((n) => fs.readlinkSync(path.join(auto, n)))).toEqual([path.resolve(link)]);
    // Inside <state>/profiles a link is a root already: no indirect one.
    await store.linkRoot(path.join(stateDir, "profiles", "per-user", "u", "profile-1-link"), p);
    expect(fs.readdirSync(auto)).toHaveLength(1);
    removeTree(path.dirname(link));
    await store.gc([]);
    expect(fs.readdirSync(auto)).toEqual([]);
    expect(store.has(p)).toBe(true);
  });

  it("verifies contents, modes and references", async () => {
    const a = await store.addTree("a", file("a"), []);
    const b = await store.addTree("b", { type: "directory", entries: new Map([["f", file("f")]]) }, [a]);
    expect(verifyStore(store).problems).toEqual([]);
    fs.chmodSync(b, 0o755);
    fs.writeFileSync(path.join(b, "f"), "tampered");
    const problems = verifyStore(store).problems.map((x) => x.problem);
    expect(problems).toEqual([expect.stringMatching(/^contents changed/), "writable (store paths must be read-only)"]);
  });
});
