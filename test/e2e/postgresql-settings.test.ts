import { afterAll, beforeAll, expect, it } from "vitest";
import { chmodSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { cli, cliJson, freePort, tempDir, writeHost, writeSnippet, type SwitchOut, servicePid } from "../helpers.js";
import { noPostgres } from "../support/postgres.js";
import { describeUnless } from "../support/skip.js";

/**
 * Zero needless restarts: one switch per row, each adding one line to a snippet. Every
 * parameter PostgreSQL can take live keeps the postmaster's PID; every value is in effect.
 * Contexts: user, superuser, sighup, superuser-backend, postmaster.
 */
const ROWS: [name: string, value: string, shown: string, context: string][] = [
  ["work_mem", "24MB", "24MB", "user"],
  ["maintenance_work_mem", "128MB", "128MB", "user"],
  ["random_page_cost", "1.1", "1.1", "user"],
  ["effective_cache_size", "2GB", "2GB", "user"],
  ["statement_timeout", "30s", "30s", "user"],
  ["lock_timeout", "5s", "5s", "user"],
  ["default_statistics_target", "200", "200", "user"],
  ["search_path", "'\"$user\", app, public'", '"$user", app, public', "user"],
  ["DateStyle", "'ISO, DMY'", "ISO, DMY", "user"],
  ["enable_seqscan", "off", "off", "user"],
  ["jit", "off", "off", "user"],
  ["idle_in_transaction_session_timeout", "60s", "1min", "user"],
  ["log_min_duration_statement", "250ms", "250ms", "superuser"],
  ["log_statement", "ddl", "ddl", "superuser"],
  ["log_lock_waits", "on", "on", "superuser"],
  ["deadlock_timeout", "2s", "2s", "superuser"],
  ["checkpoint_timeout", "10min", "10min", "sighup"],
  ["max_wal_size", "2GB", "2GB", "sighup"],
  ["autovacuum_naptime", "30s", "30s", "sighup"],
  ["log_line_prefix", "'%m [%p] %u@%d '", "%m [%p] %u@%d ", "sighup"],
  ["bgwriter_delay", "100ms", "100ms", "sighup"],
  ["autovacuum_vacuum_scale_factor", "0.1", "0.1", "sighup"],
  ["log_connections", "on", "on", "superuser-backend"],
  ["log_disconnections", "on", "on", "superuser-backend"],
  ["max_connections", "60", "60", "postmaster"],
  ["wal_level", "logical", "logical", "postmaster"],
];

describeUnless(noPostgres)("postgresql: every reloadable parameter is reloaded, never restarted", () => {
  const root = tempDir();
  chmodSync(root, 0o755);
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  let port = 0;
  let hostFile = "";
  const lines: string[] = [];
  const args = () => ["--host", hostFile, "--local", local, "--state", state];
  const postmaster = () => servicePid(state, "postgresql");
  const show = async (name: string) => {
    const client = new pg.Client({ host: path.join(state, "run", "postgresql"), port, user: "postgres", database: "postgres" });
    await client.connect();
    try {
      return (await client.query("SELECT current_setting($1) AS shown", [name])).rows[0].shown as string;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    port = await freePort();
    hostFile = writeHost(root, { name: "db2", roles: ["postgresql15"], settings: { postgresql: { port } } });
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan[0]?.action).toBe("start");
  });

  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  it.each(ROWS)("%s = %s → shows %s (context %s)", async (name, value, shown, context) => {
    const pid = await postmaster();
    lines.push(`${name} = ${value}`);
    writeSnippet(local, "postgresql", "tuning.conf", `${lines.join("\n")}\n`);
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    const expected = context === "postmaster" ? "restart" : "reload";
    expect(out.plan[0]).toMatchObject({ service: "postgresql", action: expected });
    expect(out.plan[0]!.why).toEqual([`${name.toLowerCase()}: (default) → ${value.replace(/^'(.*)'$/, "$1")} (${expected})`]);
    if (expected === "reload") expect(await postmaster()).toBe(pid);
    else expect(await postmaster()).not.toBe(pid);
    expect(await show(name)).toBe(shown);
  });
});
