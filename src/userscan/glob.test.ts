import { describe, expect, it } from "vitest";
import { globMatcher, parseGlobFile } from "./glob.js";

describe("globMatcher", () => {
  it("matches base names anywhere when the glob has no slash", () => {
    const m = globMatcher(["*.whl", ".cache", "lib?.so", "[!a]x"]);
    expect(m("/home/a/venv/x-1.0-py3-none-any.whl")).toBe(true);
    expect(m("/home/a/.cache")).toBe(true);
    expect(m("/home/a/.cache/foo")).toBe(false);
    expect(m("/lib1.so")).toBe(true);
    expect(m("/bx")).toBe(true);
    expect(m("/ax")).toBe(false);
    expect(m("/home/a/whl")).toBe(false);
  });

  it("matches whole paths when the glob has a slash; * stays in a component, ** crosses", () => {
    const m = globMatcher(["/home/*/tmp", "/srv/**/node_modules"]);
    expect(m("/home/alice/tmp")).toBe(true);
    expect(m("/home/alice/x/tmp")).toBe(false);
    expect(m("/srv/node_modules")).toBe(true);
    expect(m("/srv/a/b/node_modules")).toBe(true);
  });

  it("escapes regex characters and matches nothing without globs", () => {
    expect(globMatcher(["a+b.(c)"])("/x/a+b.(c)")).toBe(true);
    expect(globMatcher(["a+b.(c)"])("/x/aab.(c)")).toBe(false);
    expect(globMatcher([])("/anything")).toBe(false);
  });

  it("reads an exclude file: one glob a line, comments and blanks skipped", () => {
    expect(parseGlobFile("# caches\n.cache\n\n  *.tmp  \n")).toEqual([".cache", "*.tmp"]);
  });
});
