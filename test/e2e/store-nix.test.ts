import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { afterAll, expect, it, vi } from "vitest";
import { itUnless } from "../support/skip.js";
import { registerStore } from "../../src/cli/store.js";
import { runStoreConformance } from "../../src/store/engine.case.js";
import { NixStore } from "../../src/store/engines/nix/index.js";
import { readTree, removeTree } from "../../src/store/nar.js";
import { sourcePath } from "../../src/store/path-hash.js";
import { describeWithNix, nixEnv } from "../support/nix.js";

// Real Nix 2.8, always on a store rooted in a temp dir: the machine's /nix is never touched.
const env = { ...process.env, NIX_CONFIG: "substituters =\nexperimental-features = nix-command" };
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../dist/cli/main.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "store-nix-e2e-"));
afterAll(() => removeTree(tmp));

/** Regular files, an executable, a symlink, a nested dir and an empty file; no references. */
function makeTree(root: string): string {
  fs.mkdirSync(path.join(root, "etc", "nginx"), { recursive: true });
  fs.writeFileSync(path.join(root, "etc", "nginx", "nginx.conf"), "events {}\nhttp { server { listen 8080; } }\n");
  fs.writeFileSync(path.join(root, "README"), "integration point\n");
  fs.writeFileSync(path.join(root, "empty"), "");
  fs.writeFileSync(path.join(root, "start"), "#!/bin/sh\nexec nginx\n", { mode: 0o755 });
  fs.symlinkSync("etc/nginx/nginx.conf", path.join(root, "config"));
  return root;
}

describeWithNix("interop with nix-store --add", () => {
  const dir = makeTree(path.join(tmp, "site-1.0"));
  const nixAdd = (p: string) => execFileSync("nix-store", ["--store", path.join(tmp, "nix"), "--add", p], { env }).toString();

  it("computes the path nix-store --add prints, for a directory and a single file", () => {
    expect(sourcePath(readTree(dir), "site-1.0", [], "/nix/store") + "\n").toBe(nixAdd(dir));
    const single = path.join(dir, "start");
    expect(sourcePath(readTree(single), "start", [], "/nix/store") + "\n").toBe(nixAdd(single));
  });

  it("the in-process `store add --dry-run --store-dir /nix/store` command prints the same line", async () => {
    const program = new Command("congruent").exitOverride();
    registerStore(program);
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out += String(s);
      return true;
    });
    try {
      await program.parseAsync(["node", "congruent", "store", "add", "--dry-run", "--store-dir", "/nix/store", dir]);
    } finally {
      spy.mockRestore();
    }
    expect(out).toBe(nixAdd(dir));
  });

  // dist/cli/main.js is built from src/cli/main.ts (not part of the store work): checked when present.
  itUnless(fs.existsSync(cli) ? undefined : `${cli} is not built (npm run build)`)("`congruent store add --dry-run --store-dir /nix/store` prints the same line", () => {
    const state = path.join(tmp, "cli-state");
    const out = execFileSync("node", [cli, "store", "add", "--dry-run", "--store-dir", "/nix/store", "--state", state, dir]).toString();
    expect(out).toBe(nixAdd(dir));
    expect(fs.existsSync(state)).toBe(false);
  });
});

let n = 0;
describeWithNix("nix engine", () => {
  runStoreConformance({
    name: "nix (chroot store, nix-store --store DIR)",
    create() {
      const storeUri = path.join(tmp, `conformance-${n++}`);
      return { engine: new NixStore({ storeUri }), realPath: (p) => path.join(storeUri, p), cleanup: () => removeTree(storeUri) };
    },
  });

  // The store build and switch use: Nix's own variables put the whole store in a temp dir,
  // so its paths are real paths (as /nix/store is on a host).
  runStoreConformance({
    name: "nix (NIX_STORE_DIR and NIX_STATE_DIR)",
    create() {
      const root = path.join(tmp, `conformance-${n++}`);
      const saved = { ...process.env };
      Object.assign(process.env, nixEnv(root));
      return {
        engine: new NixStore(),
        realPath: (p) => p,
        cleanup: () => {
          for (const k of Object.keys(nixEnv(root))) process.env[k] = saved[k] ?? "";
          for (const k of Object.keys(nixEnv(root))) if (saved[k] === undefined) delete process.env[k];
          removeTree(root);
        },
      };
    },
  });
});
