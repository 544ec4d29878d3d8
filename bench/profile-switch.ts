import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { median, medianMs, nixBenchEnv, printRatio, timeRun } from "./measure.js";

const CLI = path.resolve(import.meta.dirname, "../dist/cli/main.js");

/** A store path of `name` added with `argv` (congruent store add, or nix-store --add). */
function added(argv: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { env });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return r.stdout.toString().trim();
}

/**
 * `congruent profile switch` to a new generation (two store paths installed in turn, so every
 * run makes one), on each engine, and a `--file` switch whose default.nix nix-build has to
 * build each time, against `node -e 0` in the same run. Stores are temp ones, never /nix.
 */
export async function benchProfileSwitch(runs = 15): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), "congruent-bench-profile-"));
  const src = (name: string) => {
    mkdirSync(path.join(root, "src", name, "bin"), { recursive: true });
    writeFileSync(path.join(root, "src", name, "bin", "tool"), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
    return path.join(root, "src", name);
  };
  const state = path.join(root, "state");
  const nixEnv = nixBenchEnv(path.join(root, "nix"));
  const engines = [
    { name: "embedded", env: process.env, add: (s: string) => added([process.execPath, CLI, "store", "add", s, "--state", state], process.env) },
    { name: "nix", env: nixEnv, add: (s: string) => added(["nix-store", "--add", s], nixEnv) },
  ];
  const reference = medianMs([process.execPath, "-e", "0"], runs);
  for (const e of engines) {
    const lists = ["tool-1.0", "tool-2.0"].map((n) => {
      const file = path.join(root, `${e.name}-${n}.txt`);
      writeFileSync(file, `${e.add(src(n))}\n`);
      return file;
    });
    let turn = 0;
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) times.push(timeRun([process.execPath, CLI, "profile", "switch", "--store", e.name, "--state", state, "--user", "root", "--paths", lists[turn++ % 2]!, "--json"], e.env));
    printRatio(`profile switch --store ${e.name} --paths, a new generation (median)`, median(times.slice(1)), "node -e 0", reference);
  }
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const file = path.join(root, `default-${i}.nix`);
    writeFileSync(file, `derivation { name = "bench-${i}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "/bin/mkdir $out" ]; }\n`);
    times.push(timeRun([process.execPath, CLI, "profile", "switch", "--store", "nix", "--user", "root", "--file", file, "--json"], nixEnv));
  }
  printRatio("profile switch --store nix --file default.nix, built each time (median)", median(times.slice(1)), "node -e 0", reference);
}

