import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, medianMs, printRatio, timeRun } from "./measure.js";

const CLI = path.resolve(import.meta.dirname, "../dist/cli/main.js");

/**
 * An agent run that finds nothing changed (a 304 from the directory, unchanged integration
 * points: no build), the common case on every host every ten minutes, against a bare
 * `node -e 0` in the same run.
 */
export async function benchAgentUnchanged(runs = 21): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-agent-"));
  const adminToken = path.join(root, "admin.token");
  writeFileSync(adminToken, randomBytes(24).toString("hex"), { mode: 0o600 });
  const url = `http://127.0.0.1:${await freePort()}`;
  const server = spawn(process.execPath, [CLI, "directory", "serve", "--db", `sqlite:${root}/d.db`, "--listen", url.slice(7), "--admin-token-file", adminToken, "--log-level", "warn"], { stdio: "ignore" });
  const state = path.join(root, "state");
  try {
    for (let i = 0; i < 200 && !(await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
    const admin = (args: string[]) => timeRun([process.execPath, CLI, ...args, "--directory", url, "--token-file", adminToken]);
    admin(["rg", "add", "bench"]);
    const token = path.join(root, "host.token");
    admin(["host", "add", "bench1", "--rg", "bench", "--role", "webgateway", "--token-out", token]);
    const local = path.join(root, "local");
    mkdirSync(path.join(local, "nginx"), { recursive: true });
    writeFileSync(path.join(local, "nginx", "site.conf"), `server {\n    listen 127.0.0.1:${await freePort()};\n    location / { return 200; }\n}\n`);
    const manage = [process.execPath, CLI, "manage", "--once", "--directory", url, "--token-file", token, "--name", "bench1", "--state", state, "--local", local];
    timeRun(manage);
    const reference = medianMs([process.execPath, "-e", "0"], runs);
    const unchanged = medianMs(manage, runs);
    printRatio("agent run, nothing changed (median)", unchanged, "node -e 0", reference);
  } finally {
    timeRun([process.execPath, CLI, "down", "--state", state]);
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(root, { recursive: true, force: true });
  }
}
