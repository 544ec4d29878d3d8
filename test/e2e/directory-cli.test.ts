import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelStatus, HostCreated, HostDetail } from "../../src/directory/api.js";
import { DirectoryClient } from "../../src/directory/client.js";
import { CLI, freePort, tempDir } from "../helpers.js";

/**
 * The real CLI against a real `congruent directory serve` on a loopback port (needs
 * `npm run build`). Until main.ts registers the directory commands, a two-line entry point
 * in the temp dir registers them on their own.
 */
function entryPoint(dir: string): string[] {
  const help = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" }).stdout;
  if (/^ {2}host /m.test(help) && /^ {2}directory /m.test(help)) return [CLI];
  const entry = path.join(dir, "congruent-directory.mjs");
  const dist = path.dirname(CLI);
  writeFileSync(
    entry,
    `import { createRequire } from "node:module";
const { Command } = createRequire(${JSON.stringify(path.join(dist, "main.js"))})("commander");
const { registerDirectory } = await import(${JSON.stringify(path.join(dist, "directory.js"))});
const program = new Command("congruent");
registerDirectory(program);
try { await program.parseAsync(process.argv); } catch (e) { process.stderr.write("congruent: " + e.message + "\\n"); process.exit(1); }
`,
  );
  return [entry];
}

describe("congruent directory serve + admin CLI", () => {
  let dir: string;
  let entry: string[];
  let server: ChildProcess;
  let serverOut = "";
  let url: string;
  let tokenFile: string;

  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [...entry, ...args], { env: { ...process.env, CONGRUENT_DIRECTORY: url, CONGRUENT_TOKEN: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await run([...args, "--token-file", tokenFile, "--json"]);
    if (r.code !== 0) throw new Error(`congruent ${args.join(" ")}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    dir = tempDir("congruent-directory-cli-");
    entry = entryPoint(dir);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = { ...process.env };
    delete env.CONGRUENT_ADMIN_TOKEN;
    server = spawn(process.execPath, [...entry, "directory", "serve", "--db", `sqlite:${dir}/db/directory.db`, "--listen", `127.0.0.1:${port}`], { env, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (d) => (serverOut += d));
    server.stderr!.on("data", (d) => (serverOut += d));
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`${url}/v1/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    tokenFile = path.join(dir, "db", "admin.token");
  });

  afterAll(async () => {
    if (server.exitCode === null) server.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("generates the admin token beside the database, 0600, and logs its path, not the token", async () => {
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, "utf8").trim();
    expect(token.length).toBeGreaterThan(30);
    expect(serverOut).toContain(tokenFile);
    expect(serverOut).not.toContain(token);
  });

  it("manages resource groups, channels, releases and hosts end to end", async () => {
    await json(["rg", "add", "acme", "--description", "ACME Ltd"]);
    expect((await json<{ name: string }[]>(["rg", "list"])).map((g) => g.name)).toEqual(["acme"]);
    await json(["channel", "create", "stable", "--canary-share", "50"]);
    const defaults = path.join(dir, "defaults.json");
    writeFileSync(defaults, JSON.stringify({ web: { nginx: { worker_processes: 4, gzip: true } } }));
    expect((await json<{ number: number }>(["channel", "release", "stable", "--version", "2025.01", "--defaults", defaults])).number).toBe(1);

    const hostToken = path.join(dir, "web1.token");
    const created = await json<HostCreated>([
      "host", "add", "web1", "--rg", "acme", "--role", "web", "--param", "fqdn=web1.acme.example",
      "--set", "nginx.worker_processes=2", "--set", "nginx.server_tokens=off", "--channel", "stable",
      "--window", "Sun 02:00-04:00", "--timezone", "Europe/Berlin", "--token-out", hostToken,
    ]);
    expect(created.host).toMatchObject({ roles: ["web"], parameters: { fqdn: "web1.acme.example" }, settings: { nginx: { worker_processes: 2, server_tokens: "off" } }, maintenanceWindow: { timezone: "Europe/Berlin" } });
    expect(readFileSync(hostToken, "utf8").trim()).toBe(created.token);
    expect(statSync(hostToken).mode & 0o777).toBe(0o600);

    await json(["host", "set", "web1", "--set", "nginx.worker_processes=3", "--unset", "nginx.server_tokens"]);
    const status = await json<ChannelStatus>(["channel", "promote", "stable", "1"]);
    expect(status.rollout?.canaryHosts).toEqual(["web1"]);

    // The agent's side, with the token the CLI wrote.
    const agent = new DirectoryClient({ url, token: created.token });
    const first = await agent.getConfig("web1");
    expect(first.status).toBe(200);
    if (first.status !== 200) return;
    expect(first.config.host.settings).toEqual({ nginx: { gzip: true, worker_processes: 3 } });
    expect(await agent.getConfig("web1", first.etag)).toEqual({ status: 304 });
    await agent.postReport("web1", {
      generation: "/x", release: { channel: "stable", number: 1 }, result: "deferred",
      deferred: [{ service: "nginx", action: "restart", why: ["binary"] }], startedAt: "2025-01-01T00:00:00Z", finishedAt: "2025-01-01T00:00:01Z",
    });

    const shown = await run(["host", "show", "web1", "--token-file", tokenFile]);
    expect(shown.stdout).toContain("pending (waits for Sun 02:00-04:00 Europe/Berlin):");
    expect(shown.stdout).toContain("restart nginx (binary)");
    expect((await json<HostDetail>(["host", "show", "web1"])).pending).toHaveLength(1);
    expect((await json<ChannelStatus>(["channel", "status", "stable"])).rollout?.state).toBe("complete");
    expect((await run(["channel", "list", "--token-file", tokenFile])).stdout).toMatch(/^stable\tcurrent 1\tprevious -\tcomplete/);
    expect((await json<{ name: string }[]>(["host", "list", "--channel", "stable"])).map((h) => h.name)).toEqual(["web1"]);

    const rotated = await json<HostCreated>(["host", "token", "web1"]);
    await expect(agent.getConfig("web1")).rejects.toMatchObject({ code: "E_DIRECTORY_HTTP", status: 401 });
    expect((await new DirectoryClient({ url, token: rotated.token }).getConfig("web1")).status).toBe(200);
    await json(["host", "remove", "web1"]);
    expect(await json<unknown[]>(["host", "list"])).toEqual([]);
  });

  it("errors name the URL, the status and the server's message; an unreachable directory says so", async () => {
    const bad = await run(["host", "list"], { CONGRUENT_TOKEN: "wrong" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`GET ${url}/v1/hosts: HTTP 401: unknown token`);
    const none = await run(["host", "list"], { CONGRUENT_TOKEN: "x", CONGRUENT_DIRECTORY: `http://127.0.0.1:${await freePort()}` });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/directory unreachable \(ECONNREFUSED\)/);
    const noToken = await run(["host", "list"]);
    expect(noToken.stderr).toContain("no token");
    const help = await run(["host", "add", "--help"]);
    expect(help.stdout).toContain("Examples:");
  });

  it("stops cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(serverOut).toContain("SIGTERM: closing");
  });
});
