import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from "node:fs";
import path from "node:path";
import { cli, cliJson, freePort, httpGet, tempDir, vhost, writeHost, writeSnippet } from "../helpers.js";

const good = { name: "web1", roles: ["webgateway"], parameters: { resource_group: "acme" }, settings: { nginx: { worker_processes: 1 } } };

/** Fingerprint of the customer's files (the README link the build places is ours). */
function customerFiles(local: string): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      if (name === "README.txt" && st.isSymbolicLink()) continue;
      h.update(`${p}:${st.mode}:${st.isSymbolicLink() ? "link" : st.isDirectory() ? "dir" : readFileSync(p, "hex")}\n`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(local);
  return h.digest("hex");
}

describe("bad input is refused with one line naming the file; nothing changes", () => {
  const root = tempDir();
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  const hostDir = path.join(root, "hosts");
  let port = 0;
  let active = "";

  beforeAll(async () => {
    mkdirSync(hostDir);
    port = await freePort();
    writeSnippet(local, "nginx", "site.conf", vhost(port, "stable"));
    active = (await cliJson<{ generation: string }>(["switch", "--host", writeHost(hostDir, good), "--local", local, "--state", state])).generation;
    expect((await httpGet(port)).body).toBe("stable\n");
  });

  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  async function expectRefused(hostText: unknown, setup: () => void, teardown: () => void, mention: RegExp) {
    const hostFile = writeHost(hostDir, hostText);
    setup();
    const before = customerFiles(local);
    const gens = (await cliJson<unknown[]>(["generations", "--state", state])).length;
    try {
      for (const command of ["build", "switch"]) {
        const r = await cli([command, "--host", hostFile, "--local", local, "--state", state]);
        expect(r.code, r.stderr).not.toBe(0);
        expect(r.stdout).toBe("");
        const lines = r.stderr.trim().split("\n");
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(/^congruent: /);
        expect(lines[0]).toMatch(mention);
      }
      expect(customerFiles(local)).toBe(before);
      expect((await cliJson<unknown[]>(["generations", "--state", state])).length).toBe(gens);
      expect((await cliJson<{ generation: string }>(["status", "--state", state])).generation).toBe(active);
      expect((await httpGet(port)).body).toBe("stable\n");
    } finally {
      teardown();
      writeHost(hostDir, good);
    }
  }
  const nothing = () => {};
  const hostPath = () => path.join(hostDir, "host.json");

  it("malformed JSON: names file and line", async () => {
    await expectRefused('{\n  "name": "web1",\n  "roles": ["webgateway"],,\n}\n', nothing, nothing, new RegExp(`${hostPath()}:3: malformed JSON`));
  });

  it("unknown role", async () => {
    await expectRefused({ ...good, roles: ["webgateway", "mainframe"] }, nothing, nothing, new RegExp(`${hostPath()}:\\d+: roles\\.1: unknown role "mainframe"`));
  });

  it("unknown component", async () => {
    await expectRefused({ ...good, settings: { apache: { x: 1 } } }, nothing, nothing, /host\.json:\d+: settings\.apache: unknown component/);
  });

  it("unknown setting", async () => {
    await expectRefused({ ...good, settings: { nginx: { worker_procs: 2 } } }, nothing, nothing, /host\.json:\d+: settings\.nginx\.worker_procs: unknown setting/);
  });

  it("a setting of the wrong type", async () => {
    await expectRefused({ ...good, settings: { nginx: { worker_processes: "many" } } }, nothing, nothing, /settings\.nginx\.worker_processes: expected an integer, got "many"/);
  });

  it("a snippet nginx rejects: file and line", async () => {
    const file = path.join(local, "nginx", "zz-bad.conf");
    await expectRefused(good, () => writeFileSync(file, "server {\n  listen 127.0.0.1:1;\n  location / {\n    retrun 200;\n  }\n}\n"), () => rmSync(file), new RegExp(`${file}:4: unknown directive "retrun"`));
  });

  it("a snippet that is a symlink out of the integration point", async () => {
    const outside = path.join(root, "secret.conf");
    writeFileSync(outside, "# outside\n");
    const link = path.join(local, "nginx", "escape.conf");
    await expectRefused(good, () => symlinkSync(outside, link), () => rmSync(link), new RegExp(`${link}: symlink points out of the integration point`));
  });

  it("an unreadable snippet (a dangling link, a directory)", async () => {
    const link = path.join(local, "nginx", "dangling.conf");
    await expectRefused(good, () => symlinkSync(path.join(local, "nginx", "gone"), link), () => rmSync(link), new RegExp(`${link}: symlink to a file that does not exist`));
    const folder = path.join(local, "nginx", "folder.conf");
    await expectRefused(good, () => mkdirSync(folder), () => rmSync(folder, { recursive: true }), new RegExp(`${folder}: not a regular file`));
  });

  it("an unreadable host file", async () => {
    const r = await cli(["build", "--host", path.join(hostDir, "missing.json"), "--local", local, "--state", state]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(`congruent: ${path.join(hostDir, "missing.json")}: cannot read host description: ENOENT`);
  });
});
