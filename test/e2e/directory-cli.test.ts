import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelStatus, HostCreated, HostDetail } from "../../src/directory/api.js";
import { DirectoryClient } from "../../src/directory/client.js";
import { CLI, freePort, tempDir } from "../helpers.js";
import { noPostgres } from "../support/postgres.js";
import { itUnless } from "../support/skip.js";

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
    writeFileSync(defaults, JSON.stringify({ webgateway: { nginx: { worker_processes: 4, gzip: true } } }));
    expect((await json<{ number: number }>(["channel", "release", "stable", "--version", "2025.01", "--defaults", defaults])).number).toBe(1);

    const hostToken = path.join(dir, "web1.token");
    const created = await json<HostCreated>([
      "host", "add", "web1", "--rg", "acme", "--role", "webgateway", "--param", "fqdn=web1.acme.example",
      "--set", "nginx.worker_processes=2", "--set", "nginx.server_tokens=off", "--channel", "stable",
      "--window", "Sun 02:00-04:00", "--timezone", "Europe/Berlin", "--token-out", hostToken,
    ]);
    expect(created.host).toMatchObject({ roles: ["webgateway"], parameters: { fqdn: "web1.acme.example" }, settings: { nginx: { worker_processes: 2, server_tokens: false } }, maintenanceWindow: { timezone: "Europe/Berlin" } });
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
    // The only canary deferred its restart: it has not run release 1 yet, so the rollout waits.
    expect((await json<ChannelStatus>(["channel", "status", "stable"])).rollout).toMatchObject({ state: "canary", waiting: [{ host: "web1", window: "Sun 02:00-04:00 Europe/Berlin" }] });
    expect((await run(["channel", "status", "stable", "--token-file", tokenFile])).stdout).toMatch(/rollout of 1: waiting for window \(0\/1 canaries applied it\)\n {2}waiting for window: web1 \(Sun 02:00-04:00 Europe\/Berlin, opens \d{4}-/);
    await agent.postReport("web1", { generation: "/x", release: { channel: "stable", number: 1 }, result: "switched", startedAt: "2025-01-01T00:00:00Z", finishedAt: "2025-01-01T00:00:01Z" });
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

  it("the host schema: the directory refuses what every agent would, the CLI types --set and checks --defaults by file and line", async () => {
    const fails = async (args: string[]) => {
      const r = await run([...args, "--token-file", tokenFile]);
      expect(r.code, r.stdout).toBe(1);
      return r.stderr.trim();
    };
    await run(["rg", "add", "beta", "--token-file", tokenFile]);
    expect(await fails(["host", "add", "db1", "--rg", "beta", "--role", "postgresql"])).toMatch(/HTTP 400: roles\.0: unknown role "postgresql" \(known: webgateway, postgresql13, .*\)$/);
    expect(await fails(["host", "add", "web7", "--rg", "beta", "--role", "webgateway", "--set", "nginx.worker_processes=999"])).toMatch(/HTTP 400: settings\.nginx\.worker_processes: 999 is above the maximum 64$/);
    expect(await fails(["host", "add", "web7", "--rg", "beta", "--window", "Sun 02:00-04:00", "--timezone", "Mars/Olympus"])).toMatch(/HTTP 400: maintenanceWindow\.timezone: unknown time zone "Mars\/Olympus"/);
    // A string setting keeps digits as text; a boolean takes off/on.
    const typed = await json<HostCreated>(["host", "add", "web7", "--rg", "beta", "--role", "webgateway", "--set", "nginx.client_max_body_size=64", "--set", "nginx.gzip=off"]);
    expect(typed.host.settings).toEqual({ nginx: { client_max_body_size: "64", gzip: false } });
    expect(await fails(["host", "set", "web7", "--role", "redis"])).toMatch(/HTTP 400: settings\.nginx: component not enabled by any role of this host$/);

    const defaults = path.join(dir, "loud.json");
    writeFileSync(defaults, '{\n  "webgateway": {\n    "nginx": {\n      "error_log_level": "loud"\n    }\n  }\n}\n');
    await json(["channel", "create", "edge"]);
    expect(await fails(["channel", "release", "edge", "--version", "1", "--defaults", defaults])).toBe(
      `congruent: ${defaults}:4: webgateway.nginx.error_log_level: "loud" is not one of debug, info, notice, warn, error, crit`,
    );
    expect(await new DirectoryClient({ url, token: readFileSync(tokenFile, "utf8").trim() }).listReleases("edge")).toEqual([]);
    const schema = JSON.parse((await run(["host", "schema", "--json"])).stdout) as { roles: { name: string }[] };
    expect(schema.roles.map((r) => r.name)).toContain("postgresql15");
  });

  it("every role the commands' help names is one the schema knows", async () => {
    const { roles } = await import("../../src/components/registry.js");
    for (const command of [["host", "add"], ["host", "set"]]) {
      const help = (await run([...command, "--help"])).stdout;
      const named = [...help.matchAll(/--role (\w+)/g)].map((m) => m[1]!);
      expect(named.length, command.join(" ")).toBeGreaterThan(0);
      for (const role of named) expect(roles.has(role), `${command.join(" ")} --help: --role ${role}`).toBe(true);
    }
  });

  it("values an agent sends are printed with control characters escaped", async () => {
    const created = await json<HostCreated>(["host", "add", "evil1", "--rg", "beta", "--role", "webgateway"]);
    const agent = new DirectoryClient({ url, token: created.token });
    const nasty = "boom\u001b]0;owned\u0007\u001b[2J\nlast report: switched\u009b31m\u202e";
    await agent.postReport("evil1", {
      generation: null, release: null, result: "failed", error: nasty, warnings: [nasty],
      deferred: [{ service: `nginx${nasty}`, action: "restart", why: [nasty] }], startedAt: "2025-01-01T00:00:00Z", finishedAt: "2025-01-01T00:00:01Z",
    });
    for (const args of [["host", "show", "evil1"], ["host", "list"], ["host", "show", "evil1", "--json"], ["host", "list", "--json"]]) {
      const out = (await run([...args, "--token-file", tokenFile])).stdout;
      // eslint-disable-next-line no-control-regex -- no raw control character may reach the terminal
      expect(out, args.join(" ")).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
      if (!args.includes("--json")) expect(out).not.toContain("\nlast report: switched");
    }
    const shown = (await run(["host", "show", "evil1", "--token-file", tokenFile])).stdout;
    expect(shown).toContain("  error: boom\\x1b]0;owned\\x07\\x1b[2J\\nlast report: switched\\x9b31m\\u{202e}");
    expect(shown).toMatch(/^last report: failed at /m);
  });

  it("--token-out writes the token 0600, also over an existing file", async () => {
    const file = path.join(dir, "existing.token");
    writeFileSync(file, "old\n", { mode: 0o644 });
    chmodSync(file, 0o644);
    const created = await json<HostCreated>(["host", "add", "tok1", "--rg", "beta", "--token-out", file]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe(`${created.token}\n`);
    chmodSync(file, 0o666);
    const rotated = await json<HostCreated>(["host", "token", "tok1", "--token-out", file]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe(`${rotated.token}\n`);
  });

  itUnless(noPostgres)("an agent's build error the directory could not know (a PostgreSQL parameter) is shown by host show", async () => {
    const hostToken = path.join(dir, "db9.token");
    await json(["host", "add", "db9", "--rg", "beta", "--role", "postgresql15", "--set", "postgresql.no_such_parameter=1", "--token-out", hostToken]);
    const state = path.join(dir, "db9-state");
    const r = await run(["manage", "--once", "--json", "--token-file", hostToken, "--name", "db9", "--state", state, "--local", path.join(dir, "db9-local")]);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).report).toMatchObject({ result: "failed", error: expect.stringContaining('unknown PostgreSQL parameter "no_such_parameter"') });
    const shown = (await run(["host", "show", "db9", "--token-file", tokenFile])).stdout;
    expect(shown).toMatch(/^last report: failed at .*\n {2}error: .*\(settings\.postgresql\.no_such_parameter\): unknown PostgreSQL parameter "no_such_parameter"$/m);
    const listed = (await run(["host", "list", "--token-file", tokenFile])).stdout;
    expect(listed).toMatch(/^db9\tbeta\t-\tpostgresql15\tfailed \d{4}-/m);
    expect(listed).toMatch(/^tok1\tbeta\t-\t-\tnever reported$/m);
  });

  it("viewer tokens: added with --viewer (shown once), listed without the token, removed by name; a viewer reads and changes nothing", async () => {
    const refused = await run(["token", "add", "--token-file", tokenFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("say --viewer");
    const out = path.join(dir, "noc.token");
    const created = await json<{ id: string; name: string; role: string; token: string }>(["token", "add", "--viewer", "--name", "noc", "--token-out", out]);
    expect(created).toMatchObject({ name: "noc", role: "viewer", id: expect.stringMatching(/^vt-[0-9a-f]{8}$/) });
    expect(readFileSync(out, "utf8").trim()).toBe(created.token);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const listed = await run(["token", "list", "--token-file", tokenFile]);
    expect(listed.stdout).toMatch(new RegExp(`^${created.id}\tnoc\tviewer\tadded `));
    expect(listed.stdout).not.toContain(created.token);
    expect((await run(["host", "list", "--token-file", out])).code).toBe(0);
    const write = await run(["rg", "add", "viewers-may-not", "--token-file", out]);
    expect(write.code).toBe(1);
    expect(write.stderr).toContain("HTTP 403: a viewer token is read-only");
    expect((await run(["token", "remove", "noc", "--token-file", tokenFile])).stdout).toBe("viewer token noc removed\n");
    expect((await run(["host", "list", "--token-file", out])).stderr).toContain("HTTP 401");
    expect((await run(["token", "remove", "noc", "--token-file", tokenFile])).code).toBe(1);
  });

  it("stops cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(serverOut).toContain("SIGTERM: closing");
  });
});
