import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { takeInventory } from "../src/migrate/inventory.js";
import { writeLegacyHost } from "../test/support/legacy-host.js";
import { medianMs, printRatio } from "./measure.js";

const REPO = path.resolve(import.meta.dirname, "..");
const MAIN = path.join(REPO, "dist/cli/main.js");

/**
 * `congruent migrate inventory` of a legacy host with 1 000 installed packages and ≈50 000
 * CONTENTS entries (every listed file present on disk), against `find ROOT -type f | wc -l`
 * on the same tree in the same run: the cost of merely walking the files once. Both read a
 * warm page cache. BENCH_MIGRATE_PACKAGES changes the size.
 */
export async function benchMigrate(runs = 5): Promise<void> {
  const packages = Number(process.env.BENCH_MIGRATE_PACKAGES ?? 1000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "congruent-bench-migrate-"));
  try {
    // The real packages of the fixture carry ≈180 entries; the fillers make up the rest of 50 000.
    const host = writeLegacyHost(root, { packages, entriesPerFiller: Math.round((packages * 50 - 180) / Math.max(1, packages - 38)) });
    const files = Number((await import("node:child_process")).execSync(`find '${root}' -type f | wc -l`, { encoding: "utf8" }).trim());
    console.log(`legacy host: ${host.packages} packages, ${host.contentsEntries} CONTENTS entries, ${files} files`);

    const out = path.join(os.tmpdir(), `congruent-bench-migrate-${process.pid}.json`);
    const inventoryMs = medianMs([process.execPath, MAIN, "migrate", "inventory", "--root", root, "--out", out], runs);
    const findMs = medianMs(["sh", "-c", `find '${root}' -type f | wc -l`], runs);
    const startMs = medianMs([process.execPath, MAIN, "--version"], runs);
    const inv = JSON.parse(fs.readFileSync(out, "utf8")) as { summary: { items: number }; facts: { packages: unknown[] } };
    fs.rmSync(out, { force: true });
    console.log(`inventory: ${inv.facts.packages.length} packages, ${inv.summary.items} items classified; CLI start-up alone (congruent --version) ${startMs.toFixed(0)} ms`);
    // The same work in this process, without node's start-up and module loading.
    takeInventory({ root });
    const inProcess: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint();
      takeInventory({ root });
      inProcess.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const workMs = inProcess.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
    printRatio("inventory work in-process, no start-up (median)", workMs, "find ROOT -type f | wc -l", findMs);
    printRatio("congruent migrate inventory (median)", inventoryMs, "find ROOT -type f | wc -l", findMs);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
