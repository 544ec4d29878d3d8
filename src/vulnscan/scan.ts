import fs from "node:fs";
import path from "node:path";
import { collectStorePaths, packagesIn, sortByNameAndPath, type CollectOptions } from "./collect.js";
import { cacheDir as defaultCacheDir, openIndex } from "./index-db.js";
import { Matcher, type Advisory, type Package } from "./match.js";
import type { PackageResult } from "./report.js";
import { whitelisted, type Whitelist } from "./whitelist-rules.js";

export interface ScanOptions extends CollectOptions {
  cacheDir?: string;
  whitelists?: readonly string[];
  /** "Today" for whitelist `until` (tests). */
  now?: Date;
}

export interface ScanResult {
  storeDir: string;
  /** Packages scanned (store paths with a version, sources and patches skipped). */
  scanned: number;
  /** The scanned packages with a finding (affected, or hidden by a whitelist), in name order. */
  results: PackageResult[];
  /** Whitelist warnings (unknown keys). */
  warnings: string[];
}

/**
 * Match packages against the index in `cacheDir`; whitelisted findings move to `whitelisted`.
 * One result per package, in their order; with `findingsOnly`, only those with a finding.
 *
 * @example scanPackages([{ name: "xz-5.6.0", pname: "xz", version: "5.6.0", path: p, patched: [] }], { cacheDir: dir })
 */
export function scanPackages(packages: readonly Package[], opts: { cacheDir?: string; whitelist?: Whitelist; now?: Date; findingsOnly?: boolean } = {}): PackageResult[] {
  const db = openIndex(defaultCacheDir(opts.cacheDir), { mustExist: true });
  try {
    const found = new Matcher(db).matchAll(packages);
    const now = opts.now ?? new Date();
    const results: PackageResult[] = [];
    for (let i = 0; i < packages.length; i++) {
      const pkg = packages[i] as Package;
      const advisories = found[i] as Advisory[];
      if (opts.findingsOnly && advisories.length === 0) continue;
      const result: PackageResult = { ...pkg, affected: advisories, whitelisted: [] };
      if (opts.whitelist && advisories.length > 0) {
        result.affected = [];
        for (const a of advisories) {
          const rule = whitelisted(opts.whitelist, pkg.pname, pkg.version, a.id, now);
          if (rule) result.whitelisted.push({ ...a, rule });
          else result.affected.push(a);
        }
      }
      results.push(result);
    }
    return results;
  } finally {
    db.close();
  }
}

/**
 * Collect, read and match: the whole `congruent vulnscan`.
 *
 * @example const r = await scan({ stateDir, paths: ["/var/lib/congruent/store/…-nginx-1.20.0"] }); exitCode(r.results, { scanned: r.scanned, showWhitelisted: false })
 */
export async function scan(opts: ScanOptions): Promise<ScanResult> {
  // Whitelists first: a syntax error should stop the scan before any work. (Their TOML parser
  // is loaded only when there are some.)
  const whitelist: Whitelist = opts.whitelists?.length ? (await import("./whitelist.js")).loadWhitelists(opts.whitelists) : { rules: [], warnings: [] };
  const collected = await collectStorePaths({ referencesCacheDir: defaultCacheDir(opts.cacheDir), ...opts });
  let derivers: Map<string, string> | undefined;
  const uri = opts.nixStoreUri ?? process.env.CONGRUENT_NIX_STORE;
  const physicalRoot = collected.nix && uri && path.isAbsolute(uri) && fs.existsSync(uri) ? uri : undefined;
  if (collected.nix) derivers = await nixDerivers(collected.paths.filter((p) => !p.endsWith(".drv")), uri);
  const packages = packagesIn(collected.paths, { ...(derivers ? { derivers } : {}), ...(physicalRoot ? { physicalRoot } : {}) });
  // Only packages with a finding are kept, and sorted: a closure's thousands of clean ones cost nothing more.
  const found = packages.length ? scanPackages(packages, { cacheDir: opts.cacheDir, whitelist, findingsOnly: true, ...(opts.now ? { now: opts.now } : {}) }) : [];
  const results = sortByNameAndPath(found);
  return { storeDir: collected.storeDir, scanned: packages.length, results, warnings: whitelist.warnings };
}

/** `nix-store -qd` for every path at once: path → its .drv (when Nix knows one). */
async function nixDerivers(paths: string[], storeUri: string | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  const { runNixStore } = await import("../store/engines/nix/run.js");
  const r = runNixStore(storeUri, ["--query", "--deriver", ...paths]);
  if (r.status !== 0) return out;
  const lines = r.stdout.split("\n").filter((l) => l !== "");
  lines.forEach((d, i) => {
    if (d.endsWith(".drv") && paths[i]) out.set(paths[i] as string, d);
  });
  return out;
}
