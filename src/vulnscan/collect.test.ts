import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packagesIn, packagesOf } from "./collect.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vulnscan-collect-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const store = path.join(tmp, "store");
fs.mkdirSync(store);
const at = (c: string, name: string) => path.join(store, `${c.repeat(32)}-${name}`);

describe("packages of store paths", () => {
  it("counts a path once however often it is given, in any order", () => {
    const paths = [at("b", "zlib-1.3"), at("a", "bash-5.2"), at("b", "zlib-1.3"), at("c", "zlib-1.3.tar.gz"), at("d", "openssl-3.0.13")];
    const names = (list: string[]) => packagesOf(list).map((p) => `${p.name} ${path.basename(p.path).slice(0, 1)}`);
    expect(names(paths)).toEqual(["bash-5.2 a", "openssl-3.0.13 d", "zlib-1.3 b"]);
    expect(names([...paths].sort())).toEqual(names(paths));
    expect(packagesIn(paths)).toHaveLength(3);
  });

  it("takes name, version and patches from a .drv over its output path's name, whichever comes first", () => {
    const out = at("e", "openssl-3.0.6");
    const drv = at("1", "openssl-3.0.6.drv");
    fs.writeFileSync(
      drv,
      `Derive([("out","${out}","","")],[],[],"x86_64-linux","/bin/sh",[],[("name","openssl-3.0.6"),("patches","${at("2", "CVE-2022-3602.patch")}"),("pname","openssl"),("version","3.0.6")])`,
    );
    for (const paths of [[drv, out], [out, drv]]) {
      expect(packagesIn(paths)).toEqual([{ name: "openssl-3.0.6", pname: "openssl", version: "3.0.6", path: out, patched: ["CVE-2022-3602"] }]);
    }
  });
});
