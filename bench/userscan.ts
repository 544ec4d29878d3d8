import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { timeRun } from "./measure.js";
import { makeHome, type Home } from "./userscan-home.js";

const REPO = path.resolve(import.meta.dirname, "..");
const MAIN = path.join(REPO, "dist/cli/main.js");

/** Median wall-clock ms of each command, run in turns (a, b, c, a, b, c, …) so that load from other processes falls on all alike. */
function interleaved(commands: { argv: string[]; env?: NodeJS.ProcessEnv }[], runs: number): number[] {
  for (const c of commands) timeRun(c.argv, c.env);
  const times = commands.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) commands.forEach((c, i) => times[i]?.push(timeRun(c.argv, c.env)));
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)] as number);
}

/** Peak resident set of one run, in MiB, by GNU time (undefined where /usr/bin/time is not installed). */
function peakMiB(argv: string[], env?: NodeJS.ProcessEnv): number | undefined {
  if (!fs.existsSync("/usr/bin/time")) return undefined;
  const r = spawnSync("/usr/bin/time", ["-f", "%M", ...argv], { env: env ?? process.env, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  const kib = Number(r.stderr.trim().split("\n").pop());
  return Number.isFinite(kib) ? kib / 1024 : undefined;
}

/**
 * `congruent userscan --list` on a home-shaped tree (200 000 files, ≈ 1 GiB: node_modules and
 * virtualenvs of many small files, extension modules, large binaries; BENCH_USERSCAN_FILES to
 * change it; BENCH_USERSCAN_HOME=DIR keeps the tree there for the next run), against references
 * measured in the same run, in turns:
 * - warm (--cache, nothing changed) against `find TREE -printf '%D %i %s %T@ %C@\n'` (what an
 *   exact cache check must cost: a stat of every file): target ≤ 1.5×;
 * - cold against ripgrep (`rg -a -o`, the same pattern): throughput target ≥ 0.8×.
 * Both readers run: the native one (the default where npm ci built it) and the TypeScript one
 * (CONGRUENT_USERSCAN_NATIVE=0, what a host without a compiler runs). Peak RSS is printed too.
 */
export async function benchUserscan(runs = Number(process.env.BENCH_RUNS ?? 5)): Promise<void> {
  const keep = process.env.BENCH_USERSCAN_HOME;
  const root = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), "congruent-bench-userscan-"));
  try {
    const store = path.join(root, "store");
    const home = path.join(root, "home");
    const marker = path.join(root, "made.json");
    let made: Home;
    if (keep && fs.existsSync(marker)) made = JSON.parse(fs.readFileSync(marker, "utf8")) as Home;
    else {
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(store, { recursive: true, force: true });
      made = makeHome(home, store, Number(process.env.BENCH_USERSCAN_FILES ?? 200_000));
      fs.writeFileSync(marker, JSON.stringify(made));
    }
    const mib = made.bytes / 1048576;
    console.log(`home: ${made.files} files, ${made.symlinks} symlinks, ${made.dirs} directories, ${mib.toFixed(0)} MiB, ${made.refs} references to ${made.paths} store paths`);

    const ts = { ...process.env, CONGRUENT_USERSCAN_NATIVE: "0" };
    const base = [process.execPath, MAIN, "userscan", "--list", "--store-dir", store];
    const json = (env?: NodeJS.ProcessEnv) => {
      const r = spawnSync(base[0] as string, [...base.slice(1), "--json", home], { env: env ?? process.env, maxBuffer: 1 << 30, encoding: "utf8" });
      return JSON.parse(r.stdout) as { reader: string; references: unknown[]; files: number };
    };
    const native = json();
    const typescript = json(ts);
    const same = JSON.stringify(native.references) === JSON.stringify(typescript.references);
    console.log(`reader by default: ${native.reader}; ${native.references.length} store paths referenced, from ${native.files} files and symlinks; the TypeScript reader finds ${same ? "the same" : "OTHER references (a bug)"}`);

    const cacheNative = path.join(root, "native.cache");
    const cacheTs = path.join(root, "ts.cache");
    fs.rmSync(cacheNative, { force: true });
    fs.rmSync(cacheTs, { force: true });
    timeRun([...base, "--cache", cacheNative, home]);
    timeRun([...base, "--cache", cacheTs, home], ts);

    const escaped = store.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const rg = ["rg", "-a", "-o", "--no-ignore", "--hidden", "--one-file-system", "--no-messages", "-e", `${escaped}/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+`, home];
    const find = ["find", home, "-printf", "%D %i %s %T@ %C@\\n"];
    const [findMs, warmMs, rgMs, coldMs, fullMs, warmTsMs, coldTsMs, nodeMs] = interleaved(
      [
        { argv: find },
        { argv: [...base, "--cache", cacheNative, home] },
        { argv: rg },
        { argv: [...base, home] },
        { argv: [...base, "--quickcheck", "0", home] },
        { argv: [...base, "--cache", cacheTs, home], env: ts },
        { argv: [...base, home], env: ts },
        { argv: [process.execPath, "-e", "0"] },
      ],
      runs,
    ) as [number, number, number, number, number, number, number, number];
    const rss = [peakMiB([...base, home]), peakMiB([...base, "--cache", cacheNative, home]), peakMiB([...base, home], ts), peakMiB([...base, "--cache", cacheTs, home], ts)];

    const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
    const f = (ms: number) => `${ms.toFixed(0)} ms`;
    const tp = (ms: number) => `${(mib / (ms / 1000)).toFixed(0)} MiB/s`;
    const m = (v: number | undefined) => (v === undefined ? "n/a" : `${v.toFixed(0)} MiB`);
    console.log(`medians of ${runs} runs in turns; load average ${load}; node -e 0: ${f(nodeMs)}`);
    console.log(`find -printf (stat of every file): ${f(findMs)}; rg -a -o: ${f(rgMs)}, ${tp(rgMs)}`);
    console.log(`native reader:     warm ${f(warmMs)}, cold ${f(coldMs)} (${tp(coldMs)}); peak RSS cold ${m(rss[0])}, warm ${m(rss[1])}`);
    console.log(`native reader, cold with --quickcheck 0 (every byte read, as rg does): ${f(fullMs)} (${tp(fullMs)}), ${(rgMs / fullMs).toFixed(2)}× rg's throughput`);
    console.log(`TypeScript reader: warm ${f(warmTsMs)}, cold ${f(coldTsMs)} (${tp(coldTsMs)}); peak RSS cold ${m(rss[2])}, warm ${m(rss[3])}`);
    console.log(`userscan warm vs find: ${(warmMs / findMs).toFixed(2)}× (target ≤ 1.5×); TypeScript reader ${(warmTsMs / findMs).toFixed(2)}×`);
    console.log(`userscan cold throughput vs rg: ${(rgMs / coldMs).toFixed(2)}× (target ≥ 0.8×); TypeScript reader ${(rgMs / coldTsMs).toFixed(2)}×`);
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }
}
