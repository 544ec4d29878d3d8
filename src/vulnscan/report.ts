import type { Advisory, Cvss, Package } from "./match.js";
import type { WhitelistRule } from "./whitelist.js";

/** One scanned package with what affects it. */
export interface PackageResult extends Package {
  affected: Advisory[];
  /** Findings hidden by an active whitelist rule. */
  whitelisted: (Advisory & { rule: WhitelistRule })[];
}

/** The `--json` shape: vulnix's list, plus `advisories` with the details. */
export interface JsonEntry {
  name: string;
  pname: string;
  version: string;
  path: string;
  affected_by: string[];
  whitelisted: string[];
  /** CVE id → base score (v3.1, else 3.0, else 2). */
  cvss: Record<string, number>;
  advisories: { id: string; cvss?: Cvss; allVersions: boolean; whitelisted: boolean; cpe: string; url: string; description?: string }[];
}

/** Packages worth listing: affected ones, and with `showWhitelisted` those with hidden findings too. */
export function listed(results: readonly PackageResult[], showWhitelisted: boolean): PackageResult[] {
  return results.filter((r) => r.affected.length > 0 || (showWhitelisted && r.whitelisted.length > 0));
}

/**
 * The `--json` document.
 *
 * @example toJson(results, false)[0] // { name: "openssl-1.0.1f", affected_by: ["CVE-2014-0160"], cvss: { "CVE-2014-0160": 7.5 }, … }
 */
export function toJson(results: readonly PackageResult[], showWhitelisted: boolean): JsonEntry[] {
  return listed(results, showWhitelisted).map((r) => {
    const cvss: Record<string, number> = {};
    const all = [...r.affected.map((a) => ({ a, w: false })), ...(showWhitelisted ? r.whitelisted.map((a) => ({ a, w: true })) : [])];
    for (const { a } of all) if (a.cvss) cvss[a.id] = a.cvss.score;
    return {
      name: r.name,
      pname: r.pname,
      version: r.version,
      path: r.path,
      affected_by: r.affected.map((a) => a.id),
      whitelisted: r.whitelisted.map((a) => a.id),
      cvss,
      advisories: all.map(({ a, w }) => ({
        id: a.id,
        ...(a.cvss ? { cvss: a.cvss } : {}),
        allVersions: a.allVersions,
        whitelisted: w,
        cpe: a.cpe,
        url: a.url,
        ...(a.description ? { description: a.description } : {}),
      })),
    };
  });
}

function scoreText(a: Advisory): string {
  return a.cvss ? `${a.cvss.score.toFixed(1).padStart(4)} (v${a.cvss.version})` : "   - (no score)";
}

/**
 * The text report: one block per package, CVEs highest score first, each with its NVD link.
 *
 * @example console.log(toText(results, { showWhitelisted: false, scanned: 120 }))
 */
export function toText(results: readonly PackageResult[], opts: { showWhitelisted: boolean; scanned: number }): string {
  const shown = listed(results, opts.showWhitelisted);
  const hiddenCount = results.reduce((n, r) => n + r.whitelisted.length, 0);
  const lines: string[] = [];
  const affected = shown.filter((r) => r.affected.length > 0).length;
  lines.push(`${affected} vulnerable store path${affected === 1 ? "" : "s"} found (${opts.scanned} scanned).`);
  for (const r of shown) {
    lines.push("", "-".repeat(72), r.name, "", r.path);
    for (const a of r.affected) lines.push(line(a, ""));
    if (opts.showWhitelisted) {
      for (const a of r.whitelisted) {
        const why = [a.rule.comment?.join(" "), a.rule.issueUrl?.join(" "), a.rule.until ? `until ${a.rule.until.toISOString().slice(0, 10)}` : undefined].filter(Boolean).join("; ");
        lines.push(line(a, `  [whitelisted by ${a.rule.file} ["${a.rule.key}"]${why ? `: ${why}` : ""}]`));
      }
    }
  }
  if (hiddenCount > 0 && !opts.showWhitelisted) lines.push("", `${hiddenCount} whitelisted finding${hiddenCount === 1 ? "" : "s"} hidden (--show-whitelisted shows them).`);
  return lines.join("\n");
}

function line(a: Advisory, suffix: string): string {
  return `  ${scoreText(a)}  ${a.url}${a.allVersions ? "  (all versions)" : ""}${suffix}`;
}

/**
 * vulnix's exit status: 3 nothing to scan, 2 unwhitelisted findings, 1 only whitelisted
 * findings (reported with --show-whitelisted), 0 nothing found.
 */
export function exitCode(results: readonly PackageResult[], opts: { scanned: number; showWhitelisted: boolean }): 0 | 1 | 2 | 3 {
  if (opts.scanned === 0) return 3;
  if (results.some((r) => r.affected.length > 0)) return 2;
  if (opts.showWhitelisted && results.some((r) => r.whitelisted.length > 0)) return 1;
  return 0;
}
