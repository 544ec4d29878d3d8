import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cli, cliJson, tempDir } from "../helpers.js";
import { ALICE, runProfileSuite } from "./profiles.case.js";

runProfileSuite({
  name: "embedded",
  async setup(root) {
    const state = path.join(root, "state");
    const env = { CONGRUENT_STORE: "embedded", CONGRUENT_STATE: state };
    return {
      env,
      profilesDir: path.join(state, "profiles"),
      storeDir: path.join(state, "store"),
      add: async (source) => (await cliJson<{ path: string }>(["store", "add", source], env)).path,
      collect: async () => void (await cliJson(["gc"], env)),
      valid: (p) => fs.existsSync(p),
      stop: async () => {},
    };
  },
});

describe("per-user profiles on the embedded engine", () => {
  it("--file needs the nix engine; the embedded one takes --paths", async () => {
    const root = tempDir("profiles-file-");
    const r = await cli(["profile", "switch", "--user", ALICE, "--file", path.join(root, "default.nix"), "--state", path.join(root, "state")], { CONGRUENT_STORE: "embedded" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--file builds with nix-build into the Nix store: it needs --store nix");
    fs.rmSync(root, { recursive: true, force: true });
  });
});
