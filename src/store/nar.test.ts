import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { narBytes, narDigest, narHash, readTree, removeTree, writeTree, type NarNode } from "./nar.js";
import { itUnless } from "../../test/support/skip.js";

const hasNix = (() => {
  try {
    execFileSync("nix-store", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const noNix = hasNix ? undefined : "nix-store is not installed (apt-get install nix-bin)";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nar-test-"));
afterAll(() => removeTree(tmp));

/** A tree with every kind of node, including names whose byte order differs from naive order. */
function sampleDir(root: string): string {
  fs.mkdirSync(path.join(root, "sub", "deeper"), { recursive: true });
  fs.writeFileSync(path.join(root, "hello.txt"), "hello\n");
  fs.writeFileSync(path.join(root, "empty"), "");
  fs.writeFileSync(path.join(root, "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
  fs.writeFileSync(path.join(root, "Zebra"), "capital first");
  fs.writeFileSync(path.join(root, "é-utf8"), "multi-byte name");
  fs.writeFileSync(path.join(root, "sub", "deeper", "seven"), "1234567");
  fs.writeFileSync(path.join(root, "sub", "eight"), "12345678");
  fs.symlinkSync("hello.txt", path.join(root, "link"));
  fs.symlinkSync("/nonexistent/target", path.join(root, "dangling"));
  fs.mkdirSync(path.join(root, "empty-dir"));
  return root;
}

const file = (s: string, executable = false): NarNode => ({ type: "regular", executable, contents: Buffer.from(s) });

describe("NAR serialisation", () => {
  it("starts with the magic and pads strings to 8 bytes", () => {
    const nar = narBytes(file("abc"));
    expect(nar.readBigUInt64LE(0)).toBe(13n);
    expect(nar.subarray(8, 21).toString()).toBe("nix-archive-1");
    expect(nar.length % 8).toBe(0);
    expect(narDigest(file("abc")).size).toBe(nar.length);
    expect(narHash(file("abc"))).toEqual(narDigest(file("abc")).hash);
  });

  itUnless(noNix)("matches `nix-store --dump` byte for byte", () => {
    const dir = sampleDir(path.join(tmp, "sample"));
    const expected = execFileSync("nix-store", ["--dump", dir]);
    expect(narBytes(readTree(dir)).equals(expected)).toBe(true);
    for (const single of ["run.sh", "empty", "link"]) {
      expect(narBytes(readTree(path.join(dir, single))).equals(execFileSync("nix-store", ["--dump", path.join(dir, single)]))).toBe(true);
    }
  });

  it("orders entries by bytes whatever the map's insertion order", () => {
    const a: NarNode = { type: "directory", entries: new Map([["b", file("1")], ["a", file("2")], ["B", file("3")]]) };
    const b: NarNode = { type: "directory", entries: new Map([["B", file("3")], ["a", file("2")], ["b", file("1")]]) };
    expect(narBytes(a).equals(narBytes(b))).toBe(true);
  });

  it("rejects entry names that would escape the directory", () => {
    for (const bad of ["..", "a/b", ""]) {
      expect(() => narBytes({ type: "directory", entries: new Map([[bad, file("x")]]) })).toThrow(/invalid directory entry/);
    }
  });
});

describe("readTree / writeTree", () => {
  it("round-trips a tree read-only, without following symlinks", () => {
    const src = sampleDir(path.join(tmp, "rt-src"));
    const dest = path.join(tmp, "rt-dest");
    writeTree(readTree(src), dest);
    expect(narBytes(readTree(dest)).equals(narBytes(readTree(src)))).toBe(true);
    expect(fs.statSync(dest).mode & 0o777).toBe(0o555);
    expect(fs.statSync(path.join(dest, "hello.txt")).mode & 0o777).toBe(0o444);
    expect(fs.statSync(path.join(dest, "run.sh")).mode & 0o777).toBe(0o555);
    expect(fs.readlinkSync(path.join(dest, "dangling"))).toBe("/nonexistent/target");
    removeTree(dest);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("reports a missing source as E_STORE_IO", () => {
    expect(() => readTree(path.join(tmp, "missing"))).toThrow(expect.objectContaining({ code: "E_STORE_IO" }));
  });
});
