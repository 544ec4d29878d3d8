import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";

/** The built CLI (npm test builds first). */
export const CLI = path.resolve(import.meta.dirname, "../dist/cli/main.js");

export function tempDir(prefix = "congruent-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export { freePort } from "./support/ports.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Run the CLI and parse its --json output; fail loudly with stderr otherwise. */
export async function cliJson<T = Record<string, unknown>>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await cli([...args, "--json"], env);
  if (r.code !== 0) throw new Error(`congruent ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** GET http://127.0.0.1:port/ with a Host header; resolves to the body (or rejects). */
export function httpGet(port: number, host = "localhost", urlPath = "/"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: urlPath, headers: { host, connection: "close" }, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/** Write a host description and return its path. */
export function writeHost(dir: string, host: unknown): string {
  const file = path.join(dir, "host.json");
  writeFileSync(file, typeof host === "string" ? host : JSON.stringify(host, null, 2));
  return file;
}

/** Write `<local>/<component>/<name>`. */
export function writeSnippet(local: string, component: string, name: string, text: string): string {
  mkdirSync(path.join(local, component), { recursive: true });
  const file = path.join(local, component, name);
  writeFileSync(file, text);
  return file;
}

/** A server block answering `body` on 127.0.0.1:port. */
export function vhost(port: number, body: string, serverName = "localhost"): string {
  return `server {\n    listen 127.0.0.1:${port};\n    server_name ${serverName};\n    location / { return 200 "${body}\\n"; }\n}\n`;
}

/** What `congruent switch --json` prints. */
export interface SwitchOut {
  generation: string;
  previous: string | null;
  plan: { service: string; action: string; why: string[]; to?: string; from?: string }[];
  result: string;
}

/** What `congruent status --json` prints. */
export interface StatusOut {
  generation: string | null;
  services: { name: string; state: string; pid: number | null }[];
}

/** The main PID of `service` in `state`, as `congruent status` reports it. */
export async function servicePid(state: string, service: string): Promise<number | null | undefined> {
  return (await cliJson<StatusOut>(["status", "--state", state])).services.find((s) => s.name === service)?.pid;
}
