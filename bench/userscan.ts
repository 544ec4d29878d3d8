import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { medianMs, printRatio, timeRun } from "./measure.js";

const REPO = path.resolve(import.meta.dirname, "..");
const MAIN = path.join(REPO, "dist/cli/main.js");
const HASH_CHARS = "0123456789abcdfghijklmnpqrsvwxyz";

/**
 * `congruent userscan --list` on a synthetic home (≈1 GB, BENCH_USERSCAN_MB to change it),
 * cold (no cache), warm (--cache, nothing changed), and `rg -a -o` with the same pattern as
 * the reference, all in this run with the files in the page cache. Targets: cold throughput
 * ≥ 0.8× ripgrep's; warm ≥ 20× faster than cold.
 */
export async function benchUserscan(runs = 5): Promise<void> {
  const mb = Number(process.env.BENCH_USERSCAN_MB ?? 1024);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "congruent-bench-userscan-"));
  try {
    const store = path.join(root, "store");
    const home = path.join(root, "home");
    const made = makeHome(home, store, mb * 1024 * 1024);
    const totalMB = made.bytes / 1048576;
    console.log(`synthetic home: ${made.files} files, ${totalMB.toFixed(0)} MiB, ${made.refs} references to ${made.paths} store paths`);

    const cli = [process.execPath, MAIN];
    const cache = path.join(root, "userscan.cache");
    const base = [...cli, "userscan", "--list", "--store-dir", store];
    const check = spawnSync(base[0] as string, [...base.slice(1), "--json", home], { maxBuffer: 1 << 30, encoding: "utf8" });
    const found = (JSON.parse(check.stdout) as { references: unknown[] }).references.length;
    console.log(`userscan found ${found} of ${made.paths} store paths`);

    const escaped = store.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const rg = ["rg", "-a", "-o", "--no-ignore", "--hidden", "--one-file-system", "--no-messages", "-e", `${escaped}/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+`, home];
    const rgMs = medianMs(rg, runs);
    const coldMs = medianMs([...base, home], runs);
    const fullMs = medianMs([...base, "--quickcheck", "0", home], runs);
    timeRun([...base, "--cache", cache, home]);
    const warmMs = medianMs([...base, "--cache", cache, home], runs);
    // The floor under any run: node itself, and the CLI loading its modules (--version does nothing else).
    const nodeMs = medianMs([process.execPath, "-e", "0"], runs);
    const startMs = medianMs([...cli, "--version"], runs);

    const mbps = (ms: number) => totalMB / (ms / 1000);
    console.log(`ripgrep:                 ${rgMs.toFixed(0)} ms, ${mbps(rgMs).toFixed(0)} MiB/s`);
    console.log(`userscan cold:           ${coldMs.toFixed(0)} ms, ${mbps(coldMs).toFixed(0)} MiB/s (quick check 512 KiB, the default)`);
    console.log(`userscan cold, no quick check: ${fullMs.toFixed(0)} ms, ${mbps(fullMs).toFixed(0)} MiB/s (reads every byte, as rg does)`);
    console.log(`userscan warm (--cache): ${warmMs.toFixed(0)} ms`);
    console.log(`cold throughput vs ripgrep: ${(rgMs / coldMs).toFixed(2)}× (target ≥ 0.8×); without quick check ${(rgMs / fullMs).toFixed(2)}×`);
    console.log(`start-up: node -e 0 ${nodeMs.toFixed(0)} ms, congruent --version ${startMs.toFixed(0)} ms`);
    console.log(`warm speed-up over cold: ${(coldMs / warmMs).toFixed(1)}× (target ≥ 20×, i.e. warm ≤ ${(coldMs / 20).toFixed(0)} ms; the start-up alone allows at most ${(coldMs / startMs).toFixed(1)}×)`);
    printRatio("userscan cold (median)", coldMs, "rg -a -o", rgMs, "≤ 1.25×");
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}


/**
 * A home of `target` bytes: many small text files (scripts, configs, sources), binaries of
 * 16–128 KiB, and a few large files of 4–32 MiB, half of them with a reference in their head (an
 * ELF's RPATH) and half without; about one file in twelve refers to one of ~3000 store paths.
 */
export function makeHome(home: string, store: string, target: number): { files: number; bytes: number; refs: number; paths: number } {
  const random = randomBytes(8 << 20);
  const words = "the quick brown fox jumps over lazy dogs while python imports numpy and links against libc ".repeat(2000);
  const text = Buffer.from(words.repeat(Math.ceil((8 << 20) / words.length)).slice(0, 8 << 20));
  const pathCount = Math.max(50, Math.min(3000, Math.round(target / 350_000)));
  const storePaths = Array.from({ length: pathCount }, (_, i) => {
    let hash = "";
    for (let k = 0; k < 32; k++) hash += HASH_CHARS[(i * 7 + k * 13 + (i >> k % 8)) % 32];
    return `${store}/${hash}-pkg${i}-1.${i % 10}`;
  });
  for (const p of storePaths) fs.mkdirSync(p, { recursive: true });
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let bytes = 0;
  let files = 0;
  let refs = 0;
  let dir = "";
  const write = (size: number, binary: boolean, refAt: number | undefined) => {
    if (files % 80 === 0) {
      dir = path.join(home, `user${files % 7}`, `project${Math.floor(files / 800)}`, `dir${Math.floor(files / 80) % 10}`, files % 3 === 0 ? ".hidden" : "src");
      fs.mkdirSync(dir, { recursive: true });
    }
    const src = binary ? random : text;
    const data = Buffer.allocUnsafe(size);
    for (let off = 0; off < size; ) {
      const start = rnd(src.length - 65536);
      off += src.copy(data, off, start, start + Math.min(65536, size - off));
    }
    if (refAt !== undefined) {
      const ref = Buffer.from(`${storePaths[refs % pathCount]}/lib\0`);
      if (refAt + ref.length < size) {
        ref.copy(data, refAt);
        refs++;
      }
    }
    fs.writeFileSync(path.join(dir, `f${files}${binary ? ".so" : ".py"}`), data);
    files++;
    bytes += size;
  };
  // Large files: about 45 % of the bytes.
  while (bytes < target * 0.45) {
    const size = (4 + rnd(29)) << 20;
    write(size, true, files % 2 === 0 ? 512 + rnd(4096) : undefined);
  }
  while (bytes < target) {
    const binary = rnd(10) < 2;
    const size = binary ? (16 << 10) + rnd(112 << 10) : 256 + rnd(16 << 10);
    write(size, binary, rnd(12) === 0 ? rnd(Math.max(1, size - 300)) : undefined);
  }
  return { files, bytes, refs, paths: pathCount };
}
