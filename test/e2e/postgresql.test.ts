import { afterAll, beforeAll, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { cli, cliJson, freePort, tempDir, writeHost, writeSnippet, type SwitchOut, type StatusOut, servicePid } from "../helpers.js";
import { noPostgres } from "../support/postgres.js";
import { describeUnless } from "../support/skip.js";

/** A real PostgreSQL run by Congruent: reload where the server allows, restart only where it must. */
describeUnless(noPostgres)("postgresql component", () => {
  const root = tempDir();
  // The server runs as user postgres: it must be able to reach the store and its data directory.
  chmodSync(root, 0o755);
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  let port = 0;
  let hostFile = "";
  let settings: Record<string, string | number> = {};
  const args = () => ["--host", hostFile, "--local", local, "--state", state];
  const writeHostWith = (extra: Record<string, string | number>) => {
    settings = { port, ...extra };
    hostFile = writeHost(root, { name: "db1", roles: ["postgresql15"], settings: { postgresql: settings } });
  };
  const connect = async () => {
    const client = new pg.Client({ host: path.join(state, "run", "postgresql"), port, user: "postgres", database: "postgres" });
    await client.connect();
    return client;
  };
  const show = async (name: string) => {
    const client = await connect();
    try {
      return (await client.query(`SHOW ${name}`)).rows[0][name.toLowerCase()] as string;
    } finally {
      await client.end();
    }
  };
  const postmaster = () => servicePid(state, "postgresql");
  const rows = async () => {
    const client = await connect();
    try {
      return (await client.query("SELECT name FROM customers ORDER BY id")).rows.map((r) => r.name as string);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    port = await freePort();
    writeHostWith({ work_mem: "4MB" });
  });

  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  it("starts: initdb once, the server runs as postgres and answers; customer rows are written", async () => {
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan.map((p) => [p.service, p.action])).toEqual([["postgresql", "start"]]);
    const pid = (await postmaster())!;
    const uid = readFileSync(`/proc/${pid}/status`, "utf8").match(/^Uid:\s+(\d+)/m)?.[1];
    expect(uid).toBe(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    expect(await show("work_mem")).toBe("4MB");
    const client = await connect();
    await client.query("CREATE TABLE customers (id serial PRIMARY KEY, name text)");
    await client.query("INSERT INTO customers (name) VALUES ('acme'), ('globex')");
    await client.end();
  });

  it("a work_mem snippet is a reload: same postmaster, new value, an open connection survives", async () => {
    const pid = await postmaster();
    const open = await connect();
    const backend = (await open.query("SELECT pg_backend_pid() AS p")).rows[0].p;
    writeSnippet(local, "postgresql", "tuning.conf", "# customer tuning\nwork_mem = 16MB\n");
    const dry = await cliJson<SwitchOut>(["switch", "--dry-run", ...args()]);
    expect(dry.plan).toEqual([expect.objectContaining({ service: "postgresql", action: "reload", why: ["work_mem: 4MB → 16MB (reload)"] })]);
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan[0]).toMatchObject({ action: "reload", why: ["work_mem: 4MB → 16MB (reload)"] });
    expect(await postmaster()).toBe(pid);
    expect(await show("work_mem")).toBe("16MB");
    // The session opened before the switch is the same backend and still works.
    expect((await open.query("SELECT pg_backend_pid() AS p, 1 AS one")).rows[0]).toEqual({ p: backend, one: 1 });
    await open.end();
    expect(await rows()).toEqual(["acme", "globex"]);
  });

  it("a DBA's ALTER SYSTEM of a restart-only setting does not fail later reloads", async () => {
    const client = await connect();
    await client.query("ALTER SYSTEM SET max_worker_processes = 9");
    await client.end();
    const pid = await postmaster();
    writeSnippet(local, "postgresql", "tuning.conf", "# customer tuning\nwork_mem = 17MB\n");
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan[0]).toMatchObject({ action: "reload", why: ["work_mem: 16MB → 17MB (reload)"] });
    expect(await postmaster()).toBe(pid);
    expect(await show("work_mem")).toBe("17MB");
    const reset = await connect();
    await reset.query("ALTER SYSTEM RESET max_worker_processes");
    await reset.end();
    writeSnippet(local, "postgresql", "tuning.conf", "# customer tuning\nwork_mem = 16MB\n");
    await cliJson<SwitchOut>(["switch", ...args()]);
  });

  it("a comment-only change restarts nothing and reloads nothing", async () => {
    writeSnippet(local, "postgresql", "tuning.conf", "# customer tuning, reviewed\nwork_mem = 16MB\n");
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan[0]).toMatchObject({ action: "none", why: ["snippet tuning.conf changed (none)"] });
  });

  it("shared_buffers is a restart (the plan says why), with a new postmaster and the new value", async () => {
    const pid = await postmaster();
    writeSnippet(local, "postgresql", "tuning.conf", "work_mem = 32MB\nshared_buffers = 64MB\n");
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    // Mixed classes: one restart, both changes named.
    expect(out.plan[0]).toMatchObject({ action: "restart", why: ["work_mem: 16MB → 32MB (reload)", "shared_buffers: (default) → 64MB (restart)"] });
    expect(await postmaster()).not.toBe(pid);
    expect(await show("shared_buffers")).toBe("64MB");
    expect(await show("work_mem")).toBe("32MB");
    expect(await rows()).toEqual(["acme", "globex"]);
  });

  it.each([
    ["work_mem = lots\n", /tuning\.conf:1: invalid value for parameter "work_mem": "lots"/],
    ["# fine\nwork_memory = 8MB\n", /tuning\.conf:2: unknown PostgreSQL parameter "work_memory"/],
    ["wal_level = bogus\n", /tuning\.conf:1: invalid value for parameter "wal_level": "bogus" \(Available values: minimal, replica, logical\.\)/],
    ["max_connections = -5\n", /tuning\.conf:1: -5 is outside the valid range for parameter "max_connections"/],
    ["data_directory = '/tmp/x'\n", /tuning\.conf:1: data_directory is set by the platform/],
    ["work_mem = '16MB\n", /tuning\.conf:1: work_mem: unterminated quoted string/],
  ])("rejects %j naming file and line; the server is untouched", async (text, message) => {
    const pid = await postmaster();
    const before = (await cliJson<StatusOut>(["status", "--state", state])).generation;
    const good = readFileSync(path.join(local, "postgresql", "tuning.conf"), "utf8");
    writeSnippet(local, "postgresql", "tuning.conf", text);
    const r = await cli(["switch", ...args()]);
    writeSnippet(local, "postgresql", "tuning.conf", good);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(await postmaster()).toBe(pid);
    expect((await cliJson<StatusOut>(["status", "--state", state])).generation).toBe(before);
  });

  it("an unknown parameter in the host description names the host file and line", async () => {
    const saved = { ...settings };
    writeHostWith({ ...saved, wrok_mem: "8MB" });
    const r = await cli(["build", ...args()]);
    writeHostWith(saved);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/host\.json:\d+ \(settings\.postgresql\.wrok_mem\): unknown PostgreSQL parameter "wrok_mem"/);
  });

  it("a port already taken: automatic rollback, the old generation serving again, exit 1 with the reason", async () => {
    const before = (await cliJson<StatusOut>(["status", "--state", state])).generation;
    const taken = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, "127.0.0.1", resolve));
    try {
      const saved = { ...settings };
      writeHostWith({ ...saved, port: taken });
      const r = await cli(["switch", "--health-timeout", "3", ...args()]);
      writeHostWith(saved);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/postgresql: not healthy within 3\.0 s: .*Address already in use.*; rolled back to /);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    const status = await cliJson<StatusOut>(["status", "--state", state]);
    expect(status.generation).toBe(before);
    expect(status.services[0]).toMatchObject({ state: "running" });
    expect(await show("port")).toBe(String(port));
    expect(await rows()).toEqual(["acme", "globex"]);
  });

  it("rollback and gc leave the data directory alone", async () => {
    const rolled = await cli(["rollback", "--state", state, "--json"]);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(await rows()).toEqual(["acme", "globex"]);
    await cliJson(["switch", ...args()]);
    const gc = await cli(["gc", "--state", state]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(await rows()).toEqual(["acme", "globex"]);
    expect(readFileSync(path.join(state, "data", "postgresql", "15", "PG_VERSION"), "utf8").trim()).toBe("15");
  });

  it("stores no secret: pg_hba asks TCP clients for a password kept in the data directory", async () => {
    const generation = (await cliJson<StatusOut>(["status", "--state", state])).generation!;
    const hba = readFileSync(path.join(generation, "components", "postgresql", "pg_hba.conf"), "utf8");
    expect(hba).toMatch(/^host\s+all\s+all\s+127\.0\.0\.1\/32\s+scram-sha-256$/m);
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres", password: "guess" });
    client.on("error", () => {});
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });
});

describeUnless(noPostgres)("postgresql application roles (roles.json): passwords from <state>/secrets, never in the store", () => {
  const root = tempDir();
  chmodSync(root, 0o755);
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  let port = 0;
  let hostFile = "";
  const args = () => ["--host", hostFile, "--local", local, "--state", state];
  const secret = () => readFileSync(path.join(state, "secrets", "postgresql", "shop.password"), "utf8").trim();
  const asShop = async (password: string) => {
    const client = new pg.Client({ host: "127.0.0.1", port, user: "shop", database: "shop", password });
    client.on("error", () => {});
    await client.connect();
    try {
      return (await client.query("SELECT current_user AS who, current_database() AS db")).rows[0];
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    port = await freePort();
    hostFile = writeHost(root, { name: "db3", roles: ["postgresql15"], settings: { postgresql: { port } } });
    await cliJson(["switch", ...args()]);
  });

  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  it("a new role is a runtime change: same postmaster, the role logs in over TCP with its secret", async () => {
    const pid = (await cliJson<StatusOut>(["status", "--state", state])).services[0]!.pid;
    writeSnippet(local, "postgresql", "roles.json", JSON.stringify({ shop: { databases: ["shop"], connection_limit: 5 } }, null, 2));
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan[0]).toMatchObject({ action: "runtime", why: ["role shop: (default) → databases=shop connection_limit=5 (runtime)"] });
    expect((await cliJson<StatusOut>(["status", "--state", state])).services[0]!.pid).toBe(pid);
    const password = secret();
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(statSync(path.join(state, "secrets", "postgresql", "shop.password")).mode & 0o777).toBe(0o600);
    expect(await asShop(password)).toEqual({ who: "shop", db: "shop" });
    await expect(asShop("wrong")).rejects.toThrow(/password authentication failed/);
    // Nothing under the generation's closure holds the password.
    const generation = out.generation;
    const grep = spawnSync("grep", ["-rlF", password, path.join(state, "store")], { encoding: "utf8" });
    expect(grep.stdout, `store files containing the password (generation ${generation})`).toBe("");
  });

  it("an operator's own password file is used; a role removed from roles.json cannot log in, its database stays", async () => {
    writeFileSync(path.join(state, "secrets", "postgresql", "shop.password"), "chosen-by-ops\n", { mode: 0o600 });
    writeSnippet(local, "postgresql", "roles.json", JSON.stringify({ shop: { databases: ["shop"] } }));
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan[0]).toMatchObject({ action: "runtime" });
    expect(await asShop("chosen-by-ops")).toEqual({ who: "shop", db: "shop" });
    rmSync(path.join(local, "postgresql", "roles.json"));
    const removed = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(removed.plan[0]).toMatchObject({ action: "runtime", why: ["role shop: databases=shop connection_limit=-1 → (default) (runtime)"] });
    await expect(asShop("chosen-by-ops")).rejects.toThrow(/not permitted to log in/);
    const client = new pg.Client({ host: path.join(state, "run", "postgresql"), port, user: "postgres", database: "postgres" });
    await client.connect();
    expect((await client.query("SELECT datname FROM pg_database WHERE datname = 'shop'")).rowCount).toBe(1);
    await client.end();
  });

  it("a malformed roles.json names file and line", async () => {
    writeSnippet(local, "postgresql", "roles.json", '{\n  "shop": {"databases": ["shop"]},\n  "Bad-Name": {}\n}\n');
    const r = await cli(["build", ...args()]);
    rmSync(path.join(local, "postgresql", "roles.json"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/roles\.json:3: "Bad-Name" is not a usable role name/);
  });
});
