import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLI, cliJson, freePort } from "../helpers.js";

export interface RunningDirectory {
  url: string;
  /** Run an admin command (`rg add acme`) with the admin token; its --json output. */
  admin<T = unknown>(args: string[]): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A real `congruent directory serve` (SQLite under `root`) on a free loopback port, with a
 * known admin token; stop() ends it by its PID.
 *
 * @example const dir = await startDirectory(root); await dir.admin(["rg", "add", "acme"]);
 */
export async function startDirectory(root: string): Promise<RunningDirectory> {
  const tokenFile = path.join(root, "admin.token");
  writeFileSync(tokenFile, "admin-token-of-a-test-directory\n", { mode: 0o600 });
  const url = `http://127.0.0.1:${await freePort()}`;
  const env = { ...process.env };
  delete env.CONGRUENT_ADMIN_TOKEN;
  const server = spawn(process.execPath, [CLI, "directory", "serve", "--db", `sqlite:${path.join(root, "directory.db")}`, "--listen", url.replace("http://", ""), "--admin-token-file", tokenFile, "--log-level", "warn"], { env, stdio: "ignore" });
  const exited = new Promise((r) => server.once("exit", r));
  for (let i = 0; i < 200 && !(await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    url,
    admin: <T>(args: string[]) => cliJson<T>(args, { CONGRUENT_DIRECTORY: url, CONGRUENT_TOKEN: readFileSync(tokenFile, "utf8").trim() }),
    stop: async () => {
      if (server.exitCode !== null) return;
      process.kill(server.pid!, "SIGTERM");
      await exited;
    },
  };
}
