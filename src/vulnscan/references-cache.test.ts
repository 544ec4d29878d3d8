import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedStore } from "../store/engines/embedded/index.js";
import { infoFile } from "../store/engines/embedded/metadata.js";
import { cachedClosure, referencesCacheFile } from "./references-cache.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vulnscan-refs-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const state = path.join(tmp, "state");
const store = new EmbeddedStore({ stateDir: state });
const storeDir = store.storeDir;
const file = referencesCacheFile(path.join(tmp, "cache"), storeDir);
const leaf = (name: string, refs: string[] = []) => store.addTree(name, { type: "regular", executable: false, contents: Buffer.from(name) }, refs);
/** Forget what the store recorded about `p` (its metadata file): only the cache still knows its references. */
const forget = (p: string) => fs.rmSync(infoFile(path.join(state, "db", "info"), p));
const written = () => JSON.parse(fs.readFileSync(file, "utf8")) as { version: number; names: string[]; refs: (number[] | null)[] };

let zlib: string, openssl: string, curl: string, system: string;
beforeAll(async () => {
  zlib = await leaf("zlib-1.3");
  openssl = await leaf("openssl-3.0.13", [zlib]);
  curl = await leaf("curl-8.6.0", [openssl, zlib]);
  system = await leaf("system-web1", [curl]);
});

describe("references kept between scans", () => {
  it("a first scan reads the store and keeps the closure's references, numbered", () => {
    expect(cachedClosure(store, storeDir, [system], file)).toEqual([...store.closure([system])].sort());
    const kept = written();
    expect(kept.version).toBe(2);
    expect(kept.names).toEqual([system, curl, openssl, zlib].map((p) => path.basename(p)).sort());
    expect(kept.refs[kept.names.indexOf(path.basename(curl))]?.map((i) => kept.names[i]).sort()).toEqual([openssl, zlib].map((p) => path.basename(p)).sort());
  });

  it("a rescan takes the references from the file, not the store", async () => {
    const copy = path.join(tmp, "copy.json");
    fs.copyFileSync(file, copy);
    const libidn = await leaf("libidn2-2.3.7");
    const curl2 = await leaf("curl-8.7.1", [openssl, libidn]);
    const system2 = await leaf("system-web2", [curl2]);
    forget(openssl); // its reference to zlib is now only in the file
    const closure = cachedClosure(store, storeDir, [system2], file);
    expect(closure).toEqual([system2, curl2, libidn, openssl, zlib].sort());
    // Only this closure is written back: system-web1 and curl-8.6.0 are gone from the file.
    expect(written().names).toEqual(closure.map((p) => path.basename(p)));
    fs.copyFileSync(copy, file);
  });

  it("keeps a root the store does not know, and a path referenced but not valid, without references", () => {
    const stranger = `${storeDir}/${"0".repeat(32)}-stranger-1.0`;
    fs.rmSync(file);
    expect(cachedClosure(store, storeDir, [system, stranger], file)).toEqual([system, curl, openssl, zlib, stranger].sort());
    const kept = written();
    expect(kept.names).not.toContain(path.basename(stranger));
    // openssl's metadata is gone (above): a cold read finds it referenced, not its references.
    expect(kept.refs[kept.names.indexOf(path.basename(openssl))]).toBeNull();
  });

  it("reads the store again when the file is damaged, of another version, or of another store", () => {
    const good = fs.readFileSync(file, "utf8");
    const kept = written();
    const damaged = [
      "{not json",
      JSON.stringify({ ...kept, version: 1 }),
      JSON.stringify({ ...kept, storeDir: "/elsewhere" }),
      JSON.stringify({ ...kept, names: [...kept.names].reverse() }),
      JSON.stringify({ ...kept, refs: kept.refs.map(() => [kept.names.length]) }),
      JSON.stringify({ ...kept, refs: kept.refs.slice(1) }),
    ];
    for (const text of damaged) {
      fs.writeFileSync(file, text);
      expect(cachedClosure(store, storeDir, [system], file), text).toEqual([system, curl, openssl, zlib].sort());
      expect(written().version).toBe(2);
    }
    fs.writeFileSync(file, good);
  });
});
