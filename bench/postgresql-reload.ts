import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startPostgres } from "../test/support/postgres.js";
import { freePort, printRatio, timeRun } from "./measure.js";

const CLI = path.resolve(import.meta.dirname, "../dist/cli/main.js");
const RUNS = 9;

/** A fresh session's work_mem: what a new client of the server sees. */
async function workMem(host: string, port: number): Promise<string> {
  const client = new pg.Client({ host, port, user: "postgres", database: "postgres" });
  await client.connect();
  try {
    return (await client.query("SHOW work_mem")).rows[0].work_mem as string;
  } finally {
    await client.end();
  }
}

/** Milliseconds from `change()` starting until a new session sees `value`. */
async function timeToVisible(change: () => Promise<void> | void, host: string, port: number, value: string): Promise<number> {
  const start = process.hrtime.bigint();
  const done = Promise.resolve(change());
  for (;;) {
    if ((await workMem(host, port)) === value) break;
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await done;
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(" ")}: ${stderr}`))));
  });
}

/**
 * `congruent switch` of a work_mem snippet change, from start to the new value visible to a new
 * session, against the same change done by hand on a plain server (edit postgresql.conf,
 * `pg_ctl reload`) in the same run. Both servers are Debian's PostgreSQL on this machine.
 */
export async function benchPostgresqlReload(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-pg-"));
  chmodSync(root, 0o755);
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  mkdirSync(path.join(local, "postgresql"), { recursive: true });
  const port = await freePort();
  const host = path.join(root, "host.json");
  writeFileSync(host, JSON.stringify({ name: "benchdb", roles: ["postgresql15"], settings: { postgresql: { port } } }));
  const snippet = (mb: number) => writeFileSync(path.join(local, "postgresql", "tuning.conf"), `work_mem = ${mb}MB\n`);
  const sw = [process.execPath, CLI, "switch", "--host", host, "--local", local, "--state", state, "--json"];
  const plain = await startPostgres();
  const data = path.join(plain.socketDir, "data");
  const asPostgres = (argv: string[]) => (process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...argv] : argv);
  const pgCtl = path.join(path.dirname(spawnSync("readlink", ["-f", `/proc/${plain.pid}/exe`], { encoding: "utf8" }).stdout.trim()), "pg_ctl");
  try {
    snippet(4);
    timeRun(sw);
    const congruent: number[] = [];
    const byHand: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const mb = 8 + i;
      congruent.push(await timeToVisible(() => (snippet(mb), run(sw)), path.join(state, "run", "postgresql"), port, `${mb}MB`));
      byHand.push(
        await timeToVisible(() => {
          appendFileSync(path.join(data, "postgresql.conf"), `work_mem = '${mb}MB'\n`);
          return run(asPostgres([pgCtl, "reload", "-D", data, "-s"]));
        }, plain.socketDir, plain.port, `${mb}MB`),
      );
    }
    printRatio(`congruent switch → new work_mem visible (median of ${RUNS})`, median(congruent), "pg_ctl reload by hand", median(byHand));
  } finally {
    timeRun([process.execPath, CLI, "down", "--state", state]);
    await plain.stop();
  }
}
