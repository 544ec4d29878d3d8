import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyRoots } from "./roots.js";
import { newWalkState, walk } from "./walk.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "userscan-walk-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("walk", () => {
  it("yields hidden files, symlink targets, and never enters a symlinked directory", () => {
    const home = path.join(tmp, "home");
    fs.mkdirSync(path.join(home, ".config", "app"), { recursive: true });
    fs.mkdirSync(path.join(tmp, "elsewhere"));
    fs.writeFileSync(path.join(tmp, "elsewhere", "secret"), "x");
    fs.writeFileSync(path.join(home, ".config", "app", "rc"), "x");
    fs.symlinkSync(path.join(tmp, "elsewhere"), path.join(home, "link-to-dir"));
    fs.mkdirSync(path.join(home, "skip-me"));
    fs.writeFileSync(path.join(home, "skip-me", "f"), "x");
    const state = newWalkState();
    const entries = [...walk({ paths: [home], excluded: (p) => p.endsWith("/skip-me") }, state)];
    expect(entries.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { kind: "file", path: path.join(home, ".config", "app", "rc") },
      { kind: "symlink", path: path.join(home, "link-to-dir"), target: path.join(tmp, "elsewhere"), uid: process.getuid?.() },
    ].sort((a, b) => a.path.localeCompare(b.path)));
    expect(state.walked.has(path.join(home, ".config", "app"))).toBe(true);
    expect([...state.skipped]).toEqual([path.join(home, "skip-me")]);
  });

  it("does not enter another filesystem and reports a missing start as unreadable", () => {
    const state = newWalkState();
    // A top-level mount point (/proc, /dev, /sys on most machines): only its st_dev counts.
    const devOfRoot = fs.statSync("/").dev;
    const sub = fs.readdirSync("/").map((n) => `/${n}`).find((p) => fs.lstatSync(p).isDirectory() && fs.lstatSync(p).dev !== devOfRoot);
    const entries = [...walk({ paths: [path.join(tmp, "nope")], excluded: () => false }, state)];
    expect(entries.sort((a, b) => a.path.localeCompare(b.path))).toEqual([]);
    expect(state.unreadable[0]?.error).toMatch(/ENOENT/);
    if (sub !== undefined) {
      const s2 = newWalkState();
      const gen = walk({ paths: ["/"], excluded: (p) => p !== sub && p.split("/").length === 2 }, s2);
      expect([...gen].some((e) => e.path.startsWith(sub + "/"))).toBe(false);
      expect(s2.skipped.has(sub)).toBe(true);
    }
  });
});

describe("applyRoots", () => {
  it("keeps links in directories with an unreadable file, removes them in directories read completely", () => {
    const gc = path.join(tmp, "gcroots");
    const store = "/nix/store";
    const hash = "0000000000000000000000000000000a";
    const mk = (dir: string) => {
      const l = path.join(gc, "per-user", "alice", dir, hash);
      fs.mkdirSync(path.dirname(l), { recursive: true });
      fs.symlinkSync(`${store}/${hash}-x`, l);
      return l;
    };
    const kept = mk("/h/a");
    const stale = mk("/h/b");
    const vanished = mk("/h/gone/deep");
    const state = newWalkState();
    for (const d of ["/h", "/h/a", "/h/b"]) state.walked.add(d);
    state.unreadable.push({ path: "/h/a/locked", error: "EACCES" });
    const r = applyRoots(gc, store, new Map(), ["/h"], state);
    expect(r.removed).toEqual([stale, vanished].sort());
    expect(fs.lstatSync(kept).isSymbolicLink()).toBe(true);
  });
});
