import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { userscan, type UserscanOptions } from "./index.js";
import { acquireLock } from "./cache.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "userscan-index-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const A = "0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r";
const B = "1zzzyyyxxxwwwvvvsssrrrqqqppp0000";
const MISSING = "2222222222222222222222222222222z";
let n = 0;
let root: string, store: string, home: string, gcroots: string, cache: string;

beforeEach(() => {
  root = path.join(tmp, `case-${n++}`);
  store = path.join(root, "store");
  home = path.join(root, "home");
  gcroots = path.join(root, "gcroots");
  cache = path.join(root, "userscan.cache");
  fs.mkdirSync(path.join(store, `${A}-libfoo-1.0`, "lib"), { recursive: true });
  fs.mkdirSync(path.join(store, `${B}-python3-3.11.9`), { recursive: true });
  fs.mkdirSync(path.join(home, "alice", ".venv", "bin"), { recursive: true });
  fs.mkdirSync(path.join(home, "alice", "src"), { recursive: true });
  fs.writeFileSync(path.join(home, "alice", ".venv", "bin", "python"), `#!${store}/${B}-python3-3.11.9/bin/python3\n`);
  fs.writeFileSync(path.join(home, "alice", "src", "Makefile"), `LDFLAGS=-L${store}/${A}-libfoo-1.0/lib -L${store}/${MISSING}-gone/lib\n`);
  fs.writeFileSync(path.join(home, "alice", "notes.txt"), "no references here\n");
  fs.symlinkSync(`${store}/${A}-libfoo-1.0/lib`, path.join(home, "alice", "lib"));
});

const scan = (extra: Partial<UserscanOptions> = {}) => userscan({ paths: [home], storeDir: store, gcrootsDir: gcroots, threads: 0, ...extra });
const user = os.userInfo().username;
const link = (dir: string, hash: string) => path.join(gcroots, "per-user", user, home, dir, hash);

describe("userscan", () => {
  it("finds references in files and symlink targets; paths not in the store are reported, not rooted", async () => {
    const r = await scan({ list: true });
    expect(r.references.map((x) => [path.basename(x.storePath), x.inStore, x.files.map((f) => path.relative(home, f))])).toEqual([
      [`${A}-libfoo-1.0`, true, ["alice/lib", "alice/src/Makefile"]],
      [`${B}-python3-3.11.9`, true, ["alice/.venv/bin/python"]],
      [`${MISSING}-gone`, false, ["alice/src/Makefile"]],
    ]);
    expect(r.files).toBe(4);
    expect(r.filesRead).toBe(3);
    expect(r.rootsAdded).toEqual([]);
    expect(fs.existsSync(gcroots)).toBe(false);
  });

  it("registers per-user roots at <gcroots>/per-user/<user>/<dir of the file>/<hash>", async () => {
    const r = await scan();
    expect(r.rootsAdded).toEqual([link("alice", A), link("alice/.venv/bin", B), link("alice/src", A)].sort());
    expect(fs.readlinkSync(link("alice/src", A))).toBe(`${store}/${A}-libfoo-1.0`);
    expect(fs.existsSync(link("alice/src", MISSING))).toBe(false);
  });

  it("on rescan adds new links and removes stale ones, keeps unchanged ones", async () => {
    await scan();
    fs.rmSync(path.join(home, "alice", ".venv"), { recursive: true });
    fs.writeFileSync(path.join(home, "alice", "src", "Makefile"), `PY=${store}/${B}-python3-3.11.9\n`);
    const r = await scan();
    expect(r.rootsAdded).toEqual([link("alice/src", B)]);
    expect(r.rootsRemoved).toEqual([link("alice/.venv/bin", B), link("alice/src", A)].sort());
    expect(fs.existsSync(link("alice", A))).toBe(true);
    expect(fs.existsSync(path.join(gcroots, "per-user", user, home, "alice", ".venv"))).toBe(false);
  });

  it("keeps roots of excluded directories and links it did not make", async () => {
    await scan();
    const foreign = path.join(gcroots, "per-user", user, home, "alice", "src", "my-root");
    fs.symlinkSync(`${store}/${A}-libfoo-1.0`, foreign);
    const r = await scan({ exclude: [".venv"] });
    expect(r.rootsRemoved).toEqual([]);
    expect(fs.existsSync(link("alice/.venv/bin", B))).toBe(true);
    expect(fs.existsSync(foreign)).toBe(true);
  });

  it("reads files in worker threads with the same result", async () => {
    const inline = await scan({ list: true });
    const threaded = await scan({ list: true, threads: 2 });
    expect(threaded.references).toEqual(inline.references);
  });
});

describe("cache", () => {
  it("a warm rescan reads no unchanged file; a changed file is read again; vanished files are dropped", async () => {
    const cold = await scan({ cacheFile: cache });
    expect([cold.filesRead, cold.filesCached]).toEqual([3, 0]);
    const warm = await scan({ cacheFile: cache, threads: 2 });
    expect([warm.filesRead, warm.filesCached, warm.bytes]).toEqual([0, 3, 0]);
    expect(warm.references).toEqual(cold.references);
    expect(warm.rootsAdded).toEqual([]);
    expect(warm.rootsRemoved).toEqual([]);

    fs.appendFileSync(path.join(home, "alice", "notes.txt"), `${store}/${B}-python3-3.11.9\n`);
    fs.rmSync(path.join(home, "alice", ".venv"), { recursive: true });
    const after = await scan({ cacheFile: cache });
    expect([after.filesRead, after.filesCached]).toEqual([1, 1]);
    expect(after.references.find((r) => r.storePath.endsWith("python3-3.11.9"))?.files).toEqual([path.join(home, "alice", "notes.txt")]);
    const body = JSON.parse(fs.readFileSync(cache, "utf8").split("\n")[1] as string) as Record<string, unknown>;
    expect(Object.keys(body)).toHaveLength(2);
  });

  it.each([
    ["corrupt", "{\"format\":\"congruent-userscan-cache\",\"version\":1\n\u0000\u0001garbage"],
    ["truncated", null],
    ["foreign", "{\"some\":\"other file\"}\n{}\n"],
    ["empty", ""],
  ])("a %s cache gives a warning and a cold scan, never a crash", async (_kind, text) => {
    await scan({ cacheFile: cache });
    if (text === null) {
      const whole = fs.readFileSync(cache, "utf8");
      fs.writeFileSync(cache, whole.slice(0, whole.length - 20));
    } else fs.writeFileSync(cache, text);
    const warnings: string[] = [];
    const r = await scan({ cacheFile: cache, onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/corrupt|foreign/);
    expect([r.filesRead, r.filesCached]).toEqual([3, 0]);
    expect(r.references).toHaveLength(3);
    expect((await scan({ cacheFile: cache })).filesCached).toBe(3);
  });

  it("a cache written with other settings is not used", async () => {
    await scan({ cacheFile: cache });
    const warnings: string[] = [];
    const r = await scan({ cacheFile: cache, quickcheckKiB: 0, onWarning: (m) => warnings.push(m) });
    expect(warnings[0]).toMatch(/other settings/);
    expect(r.filesCached).toBe(0);
  });

  it("serialises runs with a lock: waits for a live holder, breaks a dead one's lock", async () => {
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(`${cache}.lock`, `${process.ppid}\n`);
    await expect(scan({ cacheFile: cache, lockTimeoutMs: 300 })).rejects.toMatchObject({ code: "E_LOCKED" });
    fs.writeFileSync(`${cache}.lock`, "999999999\n");
    expect((await scan({ cacheFile: cache })).filesRead).toBe(3);
    expect(fs.existsSync(`${cache}.lock`)).toBe(false);

    const release = await acquireLock(`${cache}.lock`);
    let done = false;
    const second = scan({ cacheFile: cache }).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 250));
    expect(done).toBe(false);
    release();
    expect((await second).filesCached).toBe(3);
  });
});
