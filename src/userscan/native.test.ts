import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHUNK } from "./file.js";
import { globMatcher, splitGlobs } from "./glob.js";
import { userscan, type UserscanOptions, type UserscanResult } from "./index.js";
import { nativeAddon, readNative } from "./native.js";
import { newWalkState } from "./walk.js";
import { makeZip } from "./test-zip.js";

const addon = nativeAddon();
const why = process.env.CONGRUENT_USERSCAN_NATIVE === "0" ? "CONGRUENT_USERSCAN_NATIVE=0 turns the native reader off" : "the native userscan reader is not built (npm ci found no C compiler): only the TypeScript reader runs";
if (!addon) console.warn(`skipping native reader tests: ${why}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "userscan-native-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => delete process.env.CONGRUENT_USERSCAN_NATIVE);
const store = path.join(tmp, "store");
const home = path.join(tmp, "home");
const gcroots = path.join(tmp, "gcroots");
const H = ["0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r", "1zzzyyyxxxwwwvvvsssrrrqqqppp0000", "2222222222222222222222222222222z", "8haldpz8zb6ch8cj0cj8s6dw8kshdns0"] as const;
const ref = (i: number, name = `pkg${i}-1.0`) => `${store}/${H[i % 4]}-${name}`;

function put(rel: string, data: string | Buffer): string {
  const p = path.join(home, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
}

/** A home with every case the readers handle differently inside: chunks, quick check, archives, links, globs. */
function makeTree(): void {
  for (let i = 0; i < 4; i++) fs.mkdirSync(ref(i), { recursive: true });
  put("alice/.venv/bin/python3", `#!${ref(1)}/bin/python3\n`);
  put("alice/src/Makefile", `LDFLAGS=-L${ref(0)}/lib -L${store}/${"3".repeat(31)}z-gone/lib ${store}/${"e".repeat(32)}-bad\n`);
  put("alice/notes.txt", "no references here\n");
  put("alice/.hidden/rc", `x ${ref(3, "hidden-2")}`);
  for (const cut of [1, 11, 30, 44, 50, 255]) {
    const data = Buffer.alloc(CHUNK * 2 + 100, "x");
    data.write(`${store}/ early`, 0);
    data.write(`${ref(2, `split-${cut}`)}\0`, CHUNK - cut);
    put(`alice/split/s${cut}.bin`, data);
  }
  const late = Buffer.alloc(2 << 20, "b");
  late.write(`${ref(0, "late")}\0`, 1.5 * (1 << 20));
  put("alice/big/late.bin", late);
  const early = Buffer.alloc(3 << 20, "c");
  early.write(`${ref(1, "early")}\0`, 100);
  early.write(`${ref(2, "end")}\0`, (3 << 20) - 300);
  put("alice/big/early.bin", early);
  put("alice/logs/build.log.gz", gzipSync(`line\n${ref(3, "in-gzip")}/lib\n`));
  put("alice/logs/broken.gz", Buffer.concat([gzipSync("x".repeat(1000)).subarray(0, 20)]));
  put("alice/wheels/app-1.0-py3-none-any.whl", makeZip({ "pkg/": "", "pkg/_native.py": `LIB = "${ref(0, "in-zip")}/lib"\n` }));
  put("alice/wheels/app.bin", makeZip({ "pkg/x.py": `LIB = "${ref(0, "not-unzipped")}/lib"\n` }));
  put("alice/wheels/broken.whl", `not a zip ${ref(1, "raw-whl")}`);
  put("alice/.cache/pip/x", `${ref(2, "excluded")}`);
  put("bob/skip/me.txt", `${ref(2, "excluded-full")}`);
  put("bob/deep/a/b/c.skip", `${ref(2, "excluded-deep")}`);
  put("bob/üñí/cödé.txt", `${ref(1, "unicode")}`);
  put("bob/empty", "");
  fs.symlinkSync(`${ref(0)}/lib`, path.join(home, "alice", "lib"));
  fs.symlinkSync(path.join(home, "alice", "src"), path.join(home, "bob", "link-to-dir"));
  fs.symlinkSync("dangling/nowhere", path.join(home, "bob", "dangling"));
  spawnSync("mkfifo", [path.join(home, "bob", "fifo")]);
}

const base: UserscanOptions = {
  paths: [home, path.join(tmp, "missing"), "/proc/self/mem"],
  storeDir: store,
  gcrootsDir: gcroots,
  exclude: [".cache", `${home}/bob/skip/`, "**/*.skip"],
  unzip: ["*.whl"],
};

/** The same scan by the TypeScript reader and the native one: everything but `reader` equal. */
async function both(options: Partial<UserscanOptions>): Promise<[UserscanResult, UserscanResult]> {
  process.env.CONGRUENT_USERSCAN_NATIVE = "0";
  const ts = await userscan({ ...base, ...options });
  delete process.env.CONGRUENT_USERSCAN_NATIVE;
  const native = await userscan({ ...base, ...options });
  expect([ts.reader, native.reader]).toEqual(["typescript", "native"]);
  return [ts, native];
}
const strip = ({ reader: _reader, ...rest }: UserscanResult) => rest;

describe.skipIf(!addon)(`native reader${addon ? "" : ` (skipped: ${why})`}`, () => {
  beforeAll(makeTree);

  it.each([0, 2])("finds what the TypeScript reader finds (%i extra threads): references, counts, bytes, unreadable, warnings", async (threads) => {
    const [ts, native] = await both({ list: true, threads });
    expect(strip(native)).toEqual(strip(ts));
    const files = new Set(native.references.flatMap((r) => r.files).map((f) => path.relative(home, f)));
    const found = ["alice/.venv/bin/python3", "alice/src/Makefile", "alice/.hidden/rc", ...[1, 11, 30, 44, 50, 255].map((c) => `alice/split/s${c}.bin`), "alice/big/early.bin", "alice/logs/build.log.gz", "alice/wheels/app-1.0-py3-none-any.whl", "alice/wheels/broken.whl", "bob/üñí/cödé.txt", "alice/lib"];
    expect([...files].sort()).toEqual(found.sort());
    expect(native.unreadable.map((u) => [u.path, u.error.split(":")[0]])).toEqual([
      ["/proc/self/mem", "EIO"],
      [path.join(tmp, "missing"), "ENOENT"],
    ]);
    expect(native.warnings.some((w) => /broken\.gz: gzip:/.test(w)) && native.warnings.some((w) => /broken\.whl: zip:/.test(w))).toBe(true);
  });

  it("registers the same roots, and each reader keeps the other's", async () => {
    const [ts, native] = await both({});
    expect(ts.rootsAdded.length).toBeGreaterThan(5);
    expect(native.rootsAdded).toEqual([]);
    expect(native.rootsRemoved).toEqual([]);
  });

  it("shares the cache file with the TypeScript reader: a warm run of either reads nothing", async () => {
    const cacheFile = path.join(tmp, "shared.cache");
    const cold = await userscan({ ...base, list: true, cacheFile });
    expect([cold.reader, cold.filesCached]).toEqual(["native", 0]);
    const [ts, native] = await both({ list: true, cacheFile, threads: 2 });
    // Damaged archives are never cached (they are tried again): broken.gz and broken.whl.
    expect([ts.filesRead, native.filesRead, native.filesCached]).toEqual([2, 2, cold.filesRead - 2]);
    expect(strip(native)).toEqual(strip(ts));
    expect(native.references).toEqual(cold.references);

    // A changed file is read again by the native reader, and the TypeScript one takes its entry.
    fs.appendFileSync(path.join(home, "alice", "notes.txt"), `${ref(2, "appended")}\n`);
    const after = await userscan({ ...base, list: true, cacheFile });
    expect([after.filesRead, after.filesCached]).toEqual([3, cold.filesRead - 3]);
    process.env.CONGRUENT_USERSCAN_NATIVE = "0";
    const tsAfter = await userscan({ ...base, list: true, cacheFile });
    expect([tsAfter.filesRead, tsAfter.references]).toEqual([2, after.references]);
    fs.writeFileSync(path.join(home, "alice", "notes.txt"), "no references here\n");
  });

  it.each([
    ["truncated", (t: string) => t.slice(0, t.length - 20)],
    ["not JSON", (t: string) => `${t.split("\n")[0]}\n{"1:2":[1,2,3,4,[]],}\n`],
    ["an entry of another shape (only that file is read again)", (t: string) => t.replace(/\{"(\d+:\d+)":\[[^\]]*\]\]/, '{"$1":{"size":1}')],
  ])("a cache body %s: the same answer from both readers", async (_kind, damage) => {
    const cacheFile = path.join(tmp, `damaged-${_kind.length}.cache`);
    await userscan({ ...base, list: true, cacheFile });
    const damaged = damage(fs.readFileSync(cacheFile, "utf8"));
    const results: UserscanResult[] = [];
    const warnings: string[][] = [];
    for (const env of ["0", "1"]) {
      fs.writeFileSync(cacheFile, damaged);
      process.env.CONGRUENT_USERSCAN_NATIVE = env;
      const w: string[] = [];
      results.push(await userscan({ ...base, list: true, cacheFile, onWarning: (m) => w.push(m) }));
      warnings.push(w.filter((m) => /corrupt/.test(m)));
    }
    const [ts, native] = results as [UserscanResult, UserscanResult];
    expect(warnings[1]).toEqual(warnings[0]);
    expect([native.filesRead, native.filesCached]).toEqual([ts.filesRead, ts.filesCached]);
    expect(native.references).toEqual(ts.references);
  });

  it("matches globs as glob.ts does", () => {
    const globs = ["*.whl", "?.txt", "[ab]*", "[!ab]x", "[^q]", "[a-c]?d", "**/x", "/h/**", "/h/*/y", "/h/**/z*", "a[", "ü?", "[ü]", "x.y+z", "**", "*"];
    const paths = ["/h/a.whl", "/h/b.txt", "/h/ab.txt", "/h/cx", "/h/ax", "/h/q", "/h/r", "/h/bud", "/h/x", "/h/s/x", "/h/s/t/y", "/h/s/y", "/h/z1", "/h/s/t/zz", "/h/a[", "/h/üb", "/h/ü", "/h/x.y+z", "/h/xxy+z", "/h/line\nbreak"];
    for (const g of globs) {
      const { base: b, full } = splitGlobs([g]);
      const js = globMatcher([g]);
      for (const p of paths) {
        const native = b.length > 0 ? addon?.globMatch(b[0] as string, p.slice(p.lastIndexOf("/") + 1)) : addon?.globMatch(full[0] as string, p);
        expect(native, `${g} on ${JSON.stringify(p)}`).toBe(js(p));
      }
    }
  });

  it("does not enter another filesystem", async () => {
    const devOfRoot = fs.statSync("/").dev;
    const other = fs.readdirSync("/").map((n) => `/${n}`).find((p) => fs.lstatSync(p).isDirectory() && fs.lstatSync(p).dev !== devOfRoot);
    if (other === undefined) return expect.soft(other, "no mount point under / on this machine").toBeUndefined();
    const state = newWalkState();
    const exclude = fs.readdirSync("/").map((n) => `/${n}`).filter((p) => p !== other);
    const note = () => expect.unreachable("nothing is read");
    const outcome = await readNative(addon!, { paths: ["/"], settings: { storeDir: store, quickcheck: 0, unzip: [] }, exclude, threads: 1, state, note, warn: () => undefined });
    expect(outcome.files).toBe(0);
    expect(state.skipped.has(other)).toBe(true);
  });
});

describe("native reader build", () => {
  const npmGyp = path.join(path.dirname(path.dirname(process.execPath)), "lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
  const headers = path.join(path.dirname(path.dirname(process.execPath)), "include/node/node_api.h");
  const gyp = process.env.npm_config_node_gyp ?? (fs.existsSync(npmGyp) ? npmGyp : undefined);
  const reason = gyp === undefined ? "npm's node-gyp not found" : !fs.existsSync(headers) ? `Node's headers not at ${headers}` : undefined;
  if (reason) console.warn(`skipping the build test: ${reason}`);

  it.skipIf(reason !== undefined)(`an install without a C compiler succeeds, saying the TypeScript reader will be used${reason ? ` (skipped: ${reason})` : ""}`, () => {
    const src = path.join(tmp, "addon-src");
    fs.mkdirSync(src);
    const repo = path.resolve(import.meta.dirname, "../..");
    for (const f of ["binding.gyp", "userscan.c"]) fs.copyFileSync(path.join(repo, "native/userscan", f), path.join(src, f));
    const env = { ...process.env, npm_config_node_gyp: gyp, npm_config_nodedir: path.dirname(path.dirname(process.execPath)), CC: "/bin/false", CXX: "/bin/false" };
    const r = spawnSync(process.execPath, [path.join(repo, "native/build.mjs"), src], { env, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/native userscan reader was not built .*TypeScript reader/);
    expect(fs.existsSync(path.join(src, "build/Release/userscan.node"))).toBe(false);
  });
});
