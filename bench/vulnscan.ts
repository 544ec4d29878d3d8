import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { printRatio } from "./measure.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const CLI = path.join(ROOT, "dist/cli/main.js");

/** Deterministic pseudo-random numbers (mulberry32): the same data set every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Product {
  vendor: string;
  product: string;
}

/**
 * Write NVD-2.0-shaped yearly feeds: `cves` records, about four CPE matches each, over
 * ~cves/12 products with a skewed popularity (a few products carry thousands of CVEs, as
 * linux_kernel or chrome do); one product name in twenty is shared by a second vendor; one
 * configuration in ten is an AND with an OS platform.
 */
export function generate(dir: string, cves: number): { files: string[]; matches: number; products: Product[] } {
  const rand = rng(42);
  const nProducts = Math.max(50, Math.floor(cves / 12));
  const products: Product[] = Array.from({ length: nProducts }, (_, i) => ({ vendor: `vendor${i}`, product: `product${i}` }));
  for (let i = 0; i < nProducts; i += 20) products.push({ vendor: `othervendor${i}`, product: `product${i}` });
  const pick = () => products[Math.floor(products.length * rand() ** 3)] as Product;
  const v = () => `${Math.floor(rand() * 5)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 30)}`;
  const files: string[] = [];
  let matches = 0;
  const years = 25;
  const perFile = Math.ceil(cves / years);
  for (let y = 0; y < years; y++) {
    const year = 2000 + y;
    const file = path.join(dir, `nvdcve-2.0-${year}.json`);
    const fd = fs.openSync(file, "w");
    const n = Math.min(perFile, cves - y * perFile);
    fs.writeSync(fd, `{"resultsPerPage":${n},"startIndex":0,"totalResults":${n},"format":"NVD_CVE","version":"2.0","timestamp":"2024-11-25T00:00:00.000","vulnerabilities":[\n`);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = pick();
      const k = 1 + Math.floor(rand() * 7);
      const cpeMatch = Array.from({ length: k }, () => {
        const lo = v();
        return { vulnerable: true, criteria: `cpe:2.3:a:${p.vendor}:${p.product}:*:*:*:*:*:*:*:*`, versionStartIncluding: lo, versionEndExcluding: `${lo}.1`, matchCriteriaId: "00000000-0000-0000-0000-000000000000" };
      });
      matches += k;
      const nodes: unknown[] = [{ operator: "OR", negate: false, cpeMatch }];
      if (rand() < 0.1) {
        nodes.push({ operator: "OR", negate: false, cpeMatch: [{ vulnerable: false, criteria: "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*", matchCriteriaId: "00000000-0000-0000-0000-000000000000" }] });
        matches++;
      }
      const cve = {
        id: `CVE-${year}-${String(i + 1).padStart(5, "0")}`,
        sourceIdentifier: "cve@mitre.org",
        published: `${year}-01-01T00:00:00.000`,
        lastModified: `${year}-06-01T00:00:00.000`,
        vulnStatus: "Analyzed",
        descriptions: [{ lang: "en", value: `A generated vulnerability in ${p.product} before ${cpeMatch[0]?.versionEndExcluding} allows remote attackers to do something bad via a crafted request. `.repeat(2) }],
        metrics: { cvssMetricV31: [{ source: "nvd@nist.gov", type: "Primary", cvssData: { version: "3.1", vectorString: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", baseScore: Math.round(rand() * 100) / 10, baseSeverity: "HIGH" } }] },
        configurations: [nodes.length > 1 ? { operator: "AND", nodes } : { nodes }],
        references: [{ url: `https://example.org/advisories/${year}/${i}`, source: "cve@mitre.org" }],
      };
      parts.push(JSON.stringify({ cve }));
      if (parts.length === 1000 || i === n - 1) {
        fs.writeSync(fd, parts.join(",\n") + (i === n - 1 ? "\n" : ",\n"));
        parts.length = 0;
      }
    }
    fs.writeSync(fd, "]}\n");
    fs.closeSync(fd);
    files.push(file);
  }
  return { files, matches, products };
}

/** `congruent vulnscan …` as a process: the built CLI (`npm run bench` builds it). */
function scanArgv(args: string[]): string[] {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (or \`npm run bench -- vulnscan\`)`);
  return [process.execPath, CLI, "vulnscan", ...args];
}

/** Median wall-clock ms of each command, run in turns so that load from other processes falls on all alike. */
function interleaved(commands: { argv: string[]; before?: () => void; ok?: number[] }[], runs: number): number[] {
  const once = (c: (typeof commands)[number]) => {
    c.before?.();
    const start = process.hrtime.bigint();
    const r = spawnSync(c.argv[0] as string, c.argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    if (!(c.ok ?? [0]).includes(r.status as number)) throw new Error(`${c.argv.join(" ")} failed (${r.status}): ${r.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  for (const c of commands) once(c);
  const times = commands.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) commands.forEach((c, i) => times[i]?.push(once(c)));
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)] as number);
}

/**
 * Import an NVD-size data set (BENCH_VULNSCAN_CVES, default 250 000 CVEs, ≈ 1 000 000 CPE
 * matches) and scan the closure of a generation of 10 000 store paths, against `node -e 0`
 * in the same run, in turns (BENCH_RUNS, default 5). Targets: import < 60 s; scan ≤ 5× node.
 * The scan is timed as a repeated scan (the store's references read in an earlier scan) and as
 * the first scan of a generation (none read yet). BENCH_VULNSCAN_DIR=DIR keeps the data set.
 */
export async function benchVulnscan(): Promise<void> {
  const cves = Number(process.env.BENCH_VULNSCAN_CVES ?? 250_000);
  const nPaths = Number(process.env.BENCH_VULNSCAN_PATHS ?? 10_000);
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const keep = process.env.BENCH_VULNSCAN_DIR;
  const tmp = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), "congruent-bench-vulnscan-"));
  try {
    const cache = path.join(tmp, "cache");
    const state = path.join(tmp, "state");
    const marker = path.join(tmp, "made.json");
    if (!(keep && fs.existsSync(marker))) {
      fs.rmSync(cache, { recursive: true, force: true });
      fs.rmSync(state, { recursive: true, force: true });
      const feeds = path.join(tmp, "feeds");
      fs.rmSync(feeds, { recursive: true, force: true });
      fs.mkdirSync(feeds, { recursive: true });
      const g = generate(feeds, cves);
      const size = g.files.reduce((s, f) => s + fs.statSync(f).size, 0);
      console.log(`data set: ${cves} CVEs, ${g.matches} CPE matches, ${g.files.length} feed files, ${(size / 1e6).toFixed(0)} MB`);

      const { importNvd } = await import("../src/vulnscan/index.js");
      const t0 = process.hrtime.bigint();
      await importNvd([feeds], { cacheDir: cache });
      const importMs = Number(process.hrtime.bigint() - t0) / 1e6;
      console.log(`import: ${(importMs / 1000).toFixed(1)} s (target < 60 s)`);

      // A generation referencing 10 000 store paths of products in the data (and some not).
      const { EmbeddedStore } = await import("../src/store/engines/embedded/index.js");
      const { addGeneration, setCurrent } = await import("../src/store/profiles.js");
      const store = new EmbeddedStore({ stateDir: state });
      const rand = rng(7);
      const refs: string[] = [];
      for (let i = 0; i < nPaths; i++) {
        const p = g.products[Math.floor(rand() * g.products.length)] as Product;
        const name = i % 10 === 9 ? `unrelated${i}-1.0` : `${p.product}-${Math.floor(rand() * 5)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 30)}`;
        refs.push(await store.addTree(name, { type: "regular", executable: false, contents: Buffer.from(String(i)) }, []));
      }
      const system = await store.addTree("system-bench", { type: "regular", executable: false, contents: Buffer.from("gen") }, refs);
      setCurrent(state, addGeneration(state, system).number);
      fs.writeFileSync(marker, JSON.stringify({ cves, nPaths }));
    } else console.log(`data set kept in ${tmp}: ${cves} CVEs, ${nPaths} store paths`);

    const argv = scanArgv(["--system", "--state", state, "--cache-dir", cache, "--json"]);
    // One path of the generation alone: what every scan costs whatever its size (start-up, the
    // index opened, the references file read).
    const store = path.join(state, "store");
    const one = path.join(store, fs.readdirSync(store).find((n) => /-product\d+-/.test(n)) as string);
    const forget = () => {
      for (const f of fs.readdirSync(cache)) if (f.startsWith("references-")) fs.rmSync(path.join(cache, f));
    };
    const [scanMs, firstMs, oneMs, nodeMs] = interleaved(
      [
        { argv, ok: [0, 2] },
        { argv, ok: [0, 2], before: forget },
        { argv: scanArgv([one, "--state", state, "--cache-dir", cache, "--json"]), ok: [0, 2] },
        { argv: [process.execPath, "-e", "0"] },
      ],
      runs,
    ) as [number, number, number, number];
    const rss = fs.existsSync("/usr/bin/time") ? spawnSync("/usr/bin/time", ["-f", "%M", ...argv], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] }).stderr.trim().split("\n").pop() : undefined;
    const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
    console.log(`medians of ${runs} runs in turns; load average ${load}`);
    console.log(`scan of ${nPaths + 1} store paths: ${scanMs.toFixed(0)} ms; first scan of the generation (no references kept): ${firstMs.toFixed(0)} ms; peak RSS ${rss ? `${(Number(rss) / 1024).toFixed(0)} MiB` : "n/a"}`);
    printRatio("scan", scanMs, "node -e 0", nodeMs, "≤ 5×");
    printRatio("first scan of a generation", firstMs, "node -e 0", nodeMs);
    printRatio("scan of one of its paths", oneMs, "node -e 0", nodeMs);
  } finally {
    if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// `tsx bench/vulnscan.ts` runs it alone.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await benchVulnscan();
