import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, medianMs, nixBenchEnv, printRatio, timeRun } from "./measure.js";

const CLI = path.resolve(import.meta.dirname, "../dist/cli/main.js");

/**
 * A `congruent switch` that finds nothing changed (the agent's common case, every ten minutes
 * on every host), on each store engine, against a bare `node -e 0` in the same run. Target:
 * at most 3× on the embedded engine. The nix engine's store is a temp one (Nix's own
 * variables), never the machine's /nix.
 */
export async function benchSwitchUnchanged(runs = 21): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-"));
  const host = path.join(root, "host.json");
  writeFileSync(host, JSON.stringify({ name: "bench1", roles: ["webgateway"], parameters: {}, settings: {} }));
  const engines: { name: string; env: NodeJS.ProcessEnv; local: string; state: string }[] = [];
  for (const [name, env] of [["embedded", process.env], ["nix", nixBenchEnv(path.join(root, "nix"))]] as const) {
    const local = path.join(root, `local-${name}`);
    mkdirSync(path.join(local, "nginx"), { recursive: true });
    writeFileSync(path.join(local, "nginx", "site.conf"), `server {\n    listen 127.0.0.1:${await freePort()};\n    location / { return 200; }\n}\n`);
    engines.push({ name, env, local, state: path.join(root, `state-${name}`) });
  }
  const sw = (e: (typeof engines)[number]) => [process.execPath, CLI, "switch", "--store", e.name, "--host", host, "--local", e.local, "--state", e.state, "--json"];
  try {
    for (const e of engines) timeRun(sw(e), e.env);
    const reference = medianMs([process.execPath, "-e", "0"], runs);
    for (const e of engines) printRatio(`switch --store ${e.name}, nothing changed (median)`, medianMs(sw(e), runs, e.env), "node -e 0", reference, e.name === "embedded" ? "≤ 3×" : undefined);
  } finally {
    for (const e of engines) timeRun([process.execPath, CLI, "down", "--state", e.state], e.env);
  }
}
