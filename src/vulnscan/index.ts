/**
 * The vulnerability scanner's API: import NVD 2.0 data into a local index, collect a host's
 * store paths, match them vendor-aware, apply whitelists, report as vulnix does.
 *
 * @example
 *   await importNvd(["nvdcve-2.0-2024.json.gz"], { cacheDir: cacheDir() });
 *   const { results } = await scan({ stateDir: "/var/lib/congruent", system: true });
 */
import fs from "node:fs";
import path from "node:path";
import { collectStorePaths, packagesOf, type CollectOptions } from "./collect.js";
import { cacheDir as defaultCacheDir, openIndex } from "./index-db.js";
import { Matcher, type Advisory, type Package } from "./match.js";
import type { PackageResult } from "./report.js";
import { loadWhitelists, whitelisted, type Whitelist } from "./whitelist.js";

export { importNvd, type ImportOptions, type ImportProgress, type ImportResult } from "./nvd-import.js";
export { cacheDir, indexFile, indexStats, openIndex } from "./index-db.js";
export { collectStorePaths, packagesOf, skipName, type CollectOptions, type Collected } from "./collect.js";
export { Matcher, entryCovers, loadOverrides, type Advisory, type Cvss, type Package } from "./match.js";
export { exitCode, toJson, toText, type JsonEntry, type PackageResult } from "./report.js";
export { loadWhitelists, parseWhitelist, ruleActive, whitelisted, type Whitelist, type WhitelistRule } from "./whitelist.js";
export { compareVersions, splitName, splitVersion } from "./version.js";
export { parseCpe, type Cpe } from "./cpe.js";
export { derivationInfo, parseDerivation, readDerivation, type Derivation, type DerivationInfo } from "./derivation.js";

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
  results: PackageResult[];
  /** Whitelist warnings (unknown keys). */
  warnings: string[];
}

/**
 * Match packages against the index in `cacheDir`; whitelisted findings move to `whitelisted`.
 *
 * @example scanPackages([{ name: "xz-5.6.0", pname: "xz", version: "5.6.0", path: p, patched: [] }], { cacheDir: dir })
 */
export function scanPackages(packages: readonly Package[], opts: { cacheDir?: string; whitelist?: Whitelist; now?: Date } = {}): PackageResult[] {
  const db = openIndex(defaultCacheDir(opts.cacheDir), { mustExist: true });
  try {
    const found = new Matcher(db).matchAll(packages);
    const now = opts.now ?? new Date();
    return packages.map((pkg, i) => {
      const result: PackageResult = { ...pkg, affected: [], whitelisted: [] };
      for (const a of found[i] as Advisory[]) {
        const rule = opts.whitelist ? whitelisted(opts.whitelist, pkg.pname, pkg.version, a.id, now) : undefined;
        if (rule) result.whitelisted.push({ ...a, rule });
        else result.affected.push(a);
      }
      return result;
    });
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
  // Whitelists first: a syntax error should stop the scan before any work.
  const whitelist = loadWhitelists(opts.whitelists ?? []);
  const collected = await collectStorePaths({ referencesCacheDir: defaultCacheDir(opts.cacheDir), ...opts });
  let derivers: Map<string, string> | undefined;
  const uri = opts.nixStoreUri ?? process.env.CONGRUENT_NIX_STORE;
  const physicalRoot = collected.nix && uri && path.isAbsolute(uri) && fs.existsSync(uri) ? uri : undefined;
  if (collected.nix) derivers = await nixDerivers(collected.paths.filter((p) => !p.endsWith(".drv")), uri);
  const packages = packagesOf(collected.paths, { ...(derivers ? { derivers } : {}), ...(physicalRoot ? { physicalRoot } : {}) });
  const results = packages.length ? scanPackages(packages, { cacheDir: opts.cacheDir, whitelist, ...(opts.now ? { now: opts.now } : {}) }) : [];
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
