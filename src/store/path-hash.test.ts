import { describe, expect, it } from "vitest";
import type { NarNode } from "./nar.js";
import { compressHash, makeStorePath, makeType, sourcePath, textPath } from "./path-hash.js";

const dir = (entries: Record<string, NarNode>): NarNode => ({ type: "directory", entries: new Map(Object.entries(entries)) });
const file = (s: string, executable = false): NarNode => ({ type: "regular", executable, contents: Buffer.from(s) });

describe("store path computation", () => {
  // Expected paths printed by `nix-store --add` (Nix 2.8) for the same trees.
  it("gives a single file the path nix-store --add gives it", () => {
    expect(sourcePath(file("hi\n"), "a", [], "/nix/store")).toBe("/nix/store/miacmq2d49l5qm1xgkpr982m3rd9ax08-a");
  });

  it("gives a directory the path nix-store --add gives it", () => {
    const d = dir({ a: file("hi\n"), l: { type: "symlink", target: "a" }, e: dir({ empty: file("") }), x: file("#!/bin/sh\n", true) });
    expect(sourcePath(d, "d", [], "/nix/store")).toBe("/nix/store/fi8sf26xamahi9pazh5ixm2x0apy9pfg-d");
  });

  it("depends on the store dir and the name", () => {
    const a = sourcePath(file("hi\n"), "a", [], "/nix/store");
    expect(sourcePath(file("hi\n"), "a", [], "/var/lib/congruent/store")).not.toBe(a.replace("/nix/store", "/var/lib/congruent/store"));
    expect(sourcePath(file("hi\n"), "b", [], "/nix/store").slice(0, 43)).not.toBe(a.slice(0, 43));
  });

  it("sorts references into the type", () => {
    const refs = ["/nix/store/miacmq2d49l5qm1xgkpr982m3rd9ax08-a", "/nix/store/fi8sf26xamahi9pazh5ixm2x0apy9pfg-d"];
    expect(makeType("source", refs)).toBe(`source:${refs[1]}:${refs[0]}`);
    expect(makeType("text", [], true)).toBe("text:self");
    expect(sourcePath(file("x"), "x", refs, "/nix/store")).toBe(sourcePath(file("x"), "x", [...refs].reverse(), "/nix/store"));
    expect(sourcePath(file("x"), "x", refs, "/nix/store")).not.toBe(sourcePath(file("x"), "x", [], "/nix/store"));
  });

  it("computes text paths like builtins.toFile", () => {
    // nix-instantiate --eval -E 'builtins.toFile "hello" "hello\n"' (Nix 2.8)
    expect(textPath("hello\n", "hello", [], "/nix/store")).toBe("/nix/store/nmrmdcw1bfnl35a893n7nyhw4xa5vy08-hello");
  });

  it("folds with XOR and validates the name", () => {
    expect([...compressHash(Buffer.from([1, 2, 3, 1]), 3)]).toEqual([0, 2, 3]);
    expect(() => makeStorePath("source", "00", "bad name", "/nix/store")).toThrow(/illegal character ' '/);
  });
});
