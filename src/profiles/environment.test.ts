import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedStore } from "../store/engines/embedded/index.js";
import { removeTree } from "../store/nar.js";
import { dir, file } from "../store/tree.js";
import { profileEnvironment } from "./environment.js";
import { readPathsFile } from "./paths-file.js";

let state: string;
let store: EmbeddedStore;
beforeEach(() => {
  state = fs.mkdtempSync(path.join(os.tmpdir(), "profile-env-"));
  store = new EmbeddedStore({ stateDir: state });
});
afterEach(() => removeTree(state));

describe("profileEnvironment", () => {
  it("is the path itself for one path, and merges several as buildEnv does", async () => {
    const a = await store.addTree("a-1.0", dir({ bin: dir({ a: file("a", true) }), share: dir({ man: dir({ "a.1": file("a") }) }) }), []);
    const b = await store.addTree("b-1.0", dir({ bin: dir({ b: file("b", true) }), share: dir({ man: dir({ "b.1": file("b") }) }), lib: dir({}) }), []);
    expect(await profileEnvironment(store, [a])).toBe(a);
    const env = await profileEnvironment(store, [a, b]);
    expect(store.references(env)).toEqual([a, b].sort());
    expect(fs.readlinkSync(path.join(env, "bin", "a"))).toBe(path.join(a, "bin", "a"));
    expect(fs.readlinkSync(path.join(env, "share", "man", "b.1"))).toBe(path.join(b, "share", "man", "b.1"));
    expect(fs.readlinkSync(path.join(env, "lib"))).toBe(path.join(b, "lib"));
    expect(await profileEnvironment(store, [b, a])).toBe(env);
  });

  it("refuses a file two paths provide, and a path that is not a directory", async () => {
    const a = await store.addTree("a-1.0", dir({ bin: dir({ tool: file("a") }) }), []);
    const b = await store.addTree("b-1.0", dir({ bin: dir({ tool: file("b") }) }), []);
    const f = await store.addTree("lone-file", file("x"), []);
    await expect(profileEnvironment(store, [a, b])).rejects.toMatchObject({ code: "E_PROFILE_CONFLICT", message: `${a}/bin/tool and ${b}/bin/tool both provide bin/tool` });
    await expect(profileEnvironment(store, [a, f])).rejects.toMatchObject({ code: "E_PROFILE_INPUT" });
  });
});

describe("readPathsFile", () => {
  it("reads one store path a line, skipping blanks and comments, naming file and line otherwise", async () => {
    const a = await store.addTree("a", file("a"), []);
    const list = path.join(state, "paths.txt");
    fs.writeFileSync(list, `# mine\n\n${a}\n  ${a}  \n`);
    expect(readPathsFile(list, store)).toEqual([a]);
    fs.writeFileSync(list, `${a}\n${store.storeDir}/00000000000000000000000000000000-ghost\n`);
    expect(() => readPathsFile(list, store)).toThrow(`${list}:2: ${store.storeDir}/00000000000000000000000000000000-ghost is not a valid path`);
    fs.writeFileSync(list, "# nothing\n");
    expect(() => readPathsFile(list, store)).toThrow("no store paths");
    expect(() => readPathsFile(path.join(state, "missing.txt"), store)).toThrow(expect.objectContaining({ code: "E_PROFILE_INPUT" }));
  });
});
