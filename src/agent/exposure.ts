import { statSync } from "node:fs";

export interface Exposure {
  /** Open (not whitelisted) CVE findings in the generation's closure. */
  total: number;
  whitelisted: number;
  /** The open findings: what the dashboard's CVE views show (absent in what older agents saved). */
  findings?: { cve: string; score: number | null; package: string }[];
  /** mtime of the vulnerability index the counts came from. */
  indexMtimeMs: number;
}

/** The directory takes at most this many findings in one report (about 100 KB). */
const MAX_FINDINGS = 1000;

/**
 * vulnscan counts and findings for a generation, when this host has a vulnerability index (`congruent
 * vulnscan update` ran; `$CONGRUENT_VULNSCAN_CACHE` or ~/.cache/congruent/vulnscan). The scan
 * is repeated only when the generation or the index changed since `last`.
 *
 * @example await exposure(stateDir, generation, lastRun?.exposure) // { total: 2, whitelisted: 0, … }
 */
export async function exposure(stateDir: string, generation: string, last: (Exposure & { generation: string }) | undefined): Promise<(Exposure & { generation: string }) | undefined> {
  const { cacheDir, indexFile } = await import("../vulnscan/paths.js");
  let indexMtimeMs: number;
  try {
    indexMtimeMs = statSync(indexFile(cacheDir())).mtimeMs;
  } catch {
    return undefined; // no index on this host: nothing to report
  }
  if (last && last.generation === generation && last.indexMtimeMs === indexMtimeMs && last.findings) return last;
  const { scan } = await import("../vulnscan/scan.js");
  const result = await scan({ paths: [generation], stateDir });
  return {
    generation,
    indexMtimeMs,
    total: result.results.reduce((n, r) => n + r.affected.length, 0),
    whitelisted: result.results.reduce((n, r) => n + r.whitelisted.length, 0),
    findings: result.results.flatMap((r) => r.affected.map((a) => ({ cve: a.id, score: a.cvss?.score ?? null, package: r.name }))).slice(0, MAX_FINDINGS),
  };
}
