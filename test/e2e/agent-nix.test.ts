import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readSystem } from "../../src/generation/metadata.js";
import { cli, freePort, httpGet, tempDir, vhost, writeSnippet } from "../helpers.js";
import { startDirectory, type RunningDirectory } from "../support/directory.js";
import { describeWithNix, nixEnv } from "../support/nix.js";

interface ManageOut {
  report: { result: string; generation: string | null };
}

/** The agent on the nix engine: a real directory, real Nix in a temp store, a real nginx. */
describeWithNix("manage --store nix", () => {
  const root = tempDir("agent-nix-");
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  const env = nixEnv(root);
  let directory: RunningDirectory;
  let port = 0;
  const manage = async () => {
    const r = await cli(["manage", "--once", "--json", "--store", "nix", "--directory", directory.url, "--token-file", path.join(root, "web1.token"), "--name", "web1", "--state", state, "--local", local], env);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as ManageOut).report;
  };

  beforeAll(async () => {
    directory = await startDirectory(root);
    await directory.admin(["rg", "add", "acme"]);
    await directory.admin(["host", "add", "web1", "--rg", "acme", "--role", "webgateway", "--token-out", path.join(root, "web1.token")]);
    port = await freePort();
    writeSnippet(local, "nginx", "site.conf", vhost(port, "from the nix store"));
  });
  afterAll(async () => {
    await cli(["down", "--state", state], env);
    await directory.stop();
  });

  it("builds into the Nix store, switches, and keeps the generation in Nix's system profile", async () => {
    const first = await manage();
    expect(first.result).toBe("switched");
    expect(first.generation).toMatch(new RegExp(`^${env.NIX_STORE_DIR}/[0-9a-z]{32}-system-web1$`));
    expect((await httpGet(port)).body).toBe("from the nix store\n");
    const closure = execFileSync("nix-store", ["-qR", first.generation!], { env: { ...process.env, ...env } }).toString();
    for (const p of Object.values(readSystem(first.generation!).components)) expect(closure).toContain(p);
    const system = path.join(env.NIX_STATE_DIR!, "profiles", "system");
    expect(execFileSync("nix-env", ["-p", system, "--list-generations"], { env: { ...process.env, ...env } }).toString()).toMatch(/^\s*1\s.*\(current\)\n$/);
    expect(await manage()).toMatchObject({ result: "unchanged", generation: first.generation });
  });
});
