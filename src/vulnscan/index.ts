/**
 * The vulnerability scanner's API: import NVD 2.0 data into a local index, collect a host's
 * store paths, match them vendor-aware, apply whitelists, report as vulnix does.
 *
 * @example
 *   await importNvd(["nvdcve-2.0-2024.json.gz"], { cacheDir: cacheDir() });
 *   const { results } = await scan({ stateDir: "/var/lib/congruent", system: true });
 */
export { importNvd, type ImportOptions, type ImportProgress, type ImportResult } from "./nvd-import.js";
export { cacheDir, indexFile, indexStats, openIndex } from "./index-db.js";
export { collectStorePaths, packagesOf, skipName, type CollectOptions, type Collected } from "./collect.js";
export { scan, scanPackages, type ScanOptions, type ScanResult } from "./scan.js";
export { Matcher, entryCovers, loadOverrides, type Advisory, type Cvss, type Package } from "./match.js";
export { exitCode, toJson, toText, type JsonEntry, type PackageResult } from "./report.js";
export { loadWhitelists, parseWhitelist, ruleActive, whitelisted, type Whitelist, type WhitelistRule } from "./whitelist.js";
export { compareVersions, splitName, splitVersion } from "./version.js";
export { parseCpe, type Cpe } from "./cpe.js";
export { derivationInfo, parseDerivation, readDerivation, type Derivation, type DerivationInfo } from "./derivation.js";
