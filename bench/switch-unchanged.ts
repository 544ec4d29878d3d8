import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, medianMs, printRatio, timeRun } from "./measure.js";

const CLI = path.resolve(import.meta.dirname, "../dist/cli/main.js");

/**
 * A `congruent switch` that finds nothing changed (the agent's common case, every ten minutes
 * on every host), against a bare `node -e 0` in the same run. Target: at most 3×.
 */
export async function benchSwitchUnchanged(runs = 21): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-"));
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  mkdirSync(path.join(local, "nginx"), { recursive: true });
  writeFileSync(path.join(local, "nginx", "site.conf"), `server {\n    listen 127.0.0.1:${await freePort()};\n    location / { return 200; }\n}\n`);
  const host = path.join(root, "host.json");
  writeFileSync(host, JSON.stringify({ name: "bench1", roles: ["webgateway"], parameters: {}, settings: {} }));
  const sw = [process.execPath, CLI, "switch", "--host", host, "--local", local, "--state", state, "--json"];
  try {
    timeRun(sw);
    const reference = medianMs([process.execPath, "-e", "0"], runs);
    const unchanged = medianMs(sw, runs);
    printRatio("switch, nothing changed (median)", unchanged, "node -e 0", reference, "≤ 3×");
  } finally {
    timeRun([process.execPath, CLI, "down", "--state", state]);
  }
}
