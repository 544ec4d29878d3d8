import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { createServer } from "node:net";

/** Wall-clock milliseconds of one run of a command; throws when it fails. */
export function timeRun(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return ms;
}

/** Median of `runs` timings, interleaving nothing else; a warm-up run is discarded. */
export function medianMs(argv: string[], runs: number, env?: NodeJS.ProcessEnv): number {
  timeRun(argv, env);
  return median(Array.from({ length: runs }, () => timeRun(argv, env)));
}

export function median(times: readonly number[]): number {
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** The p-th percentile (nearest rank below) of `values`; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export function printRatio(label: string, value: number, reference: string, referenceValue: number, target?: string): void {
  const ratio = value / referenceValue;
  console.log(`${label}: ${value.toFixed(1)} ms; ${reference}: ${referenceValue.toFixed(1)} ms; ratio ${ratio.toFixed(2)}×${target ? ` (target ${target})` : ""}`);
}

/** A loopback port the OS just had free. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The environment of a Nix store rooted at `root` (Nix's own variables; offline, no sandbox), never the machine's /nix. */
export function nixBenchEnv(root: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NIX_STORE_DIR: `${root}/nix/store`,
    NIX_STATE_DIR: `${root}/nix/var/nix`,
    NIX_LOG_DIR: `${root}/nix/var/log/nix`,
    NIX_CONFIG: "substituters =\nsandbox = false\nbuild-users-group =\nexperimental-features = nix-command",
  };
}

const dist = path.resolve(import.meta.dirname, "../dist/directory");

/**
 * The directory (built, SQLite) in its own process, as in production: the load generator does
 * not share its core. `options` is extra source for buildDirectory's options object. Resolves
 * to a function that stops it.
 */
export function startDirectoryProcess(db: string, port: number, adminHash: string, options = ""): Promise<() => Promise<void>> {
  const script = `
    const { openSqliteStorage } = await import(${JSON.stringify(path.join(dist, "storage/sqlite/index.js"))});
    const { buildDirectory } = await import(${JSON.stringify(path.join(dist, "server.js"))});
    const storage = openSqliteStorage(${JSON.stringify(db)});
    const app = buildDirectory({ storage, adminTokenHash: ${JSON.stringify(adminHash)}, ${options} });
    await app.listen({ host: "127.0.0.1", port: ${port} });
    process.stdout.write("ready\\n");
    process.on("SIGTERM", () => app.close().then(() => storage.close()).then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () =>
      resolve(async () => {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }),
    );
    child.once("exit", (code) => reject(new Error(`directory exited with ${code}`)));
  });
}
