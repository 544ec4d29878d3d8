import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { CHUNK, makeReader, readFile } from "./file.js";
import { makeZip } from "./test-zip.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "userscan-file-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const H = "8haldpz8zb6ch8cj0cj8s6dw8kshdns0";
const REF = `/nix/store/${H}-openssl-3.0.13`;
const settings = { storeDir: "/nix/store", quickcheck: 512 * 1024, unzip: ["*.whl", "*.zip"] };

function write(name: string, data: string | Buffer): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, data);
  return p;
}

describe("readFile", () => {
  it("finds a reference split across the chunk boundary", async () => {
    for (const cut of [1, 10, 11, 30, 44, 50]) {
      const data = Buffer.alloc(CHUNK * 2 + 100, "x");
      data.write("/nix/store/ early prefix for the quick check", 0);
      data.write(REF + "\0", CHUNK - cut);
      const r = await readFile(makeReader(settings), write(`split-${cut}`, data));
      expect(r.refs, `cut ${cut}`).toEqual([`${H}-openssl-3.0.13`]);
      expect(r.bytes).toBe(data.length);
    }
  });

  it("skips the rest of a large file without a store prefix in its first --quickcheck KiB", async () => {
    const data = Buffer.alloc(2 << 20, "b");
    data.write(REF + "\0", 1.5 * (1 << 20));
    const file = write("late-ref", data);
    const quick = await readFile(makeReader(settings), file);
    expect(quick.refs).toEqual([]);
    expect(quick.bytes).toBeGreaterThanOrEqual(512 * 1024);
    expect(quick.bytes).toBeLessThan(600 * 1024);
    const whole = await readFile(makeReader({ ...settings, quickcheck: 0 }), file);
    expect(whole.refs).toEqual([`${H}-openssl-3.0.13`]);
  });

  it("inflates gzip files and scans the contents", async () => {
    const file = write("build.log.gz", gzipSync(`line\n${REF}/lib/libssl.so\n`));
    expect((await readFile(makeReader(settings), file)).refs).toEqual([`${H}-openssl-3.0.13`]);
  });

  it("scans deflated zip members of files matching --unzip, and only those", async () => {
    const zip = makeZip({ "pkg/": "", "pkg/_native.py": `LIB = "${REF}/lib"\n`, "README": "nothing" });
    expect(zip.includes(Buffer.from("/nix/store/"))).toBe(false);
    expect((await readFile(makeReader(settings), write("app-1.0-py3-none-any.whl", zip))).refs).toEqual([`${H}-openssl-3.0.13`]);
    expect((await readFile(makeReader(settings), write("app.bin", zip))).refs).toEqual([]);
  });

  it("warns about a damaged archive and keeps what it could read", async () => {
    const r = await readFile(makeReader(settings), write("broken.zip", `not a zip ${REF}`));
    expect(r.refs).toEqual([`${H}-openssl-3.0.13`]);
    expect(r.warning).toMatch(/broken\.zip: zip:/);
  });

  it("reports a file it cannot open as an error, not a crash", async () => {
    const r = await readFile(makeReader(settings), path.join(tmp, "missing"));
    expect(r.error).toMatch(/ENOENT/);
  });
});
