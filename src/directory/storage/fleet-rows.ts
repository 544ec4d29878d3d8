import type { Report } from "../api.js";
import { errorSignature } from "../error-signature.js";
import { resultsOf, type CveRow, type FailureGroup, type HostFacet, type HostStatus, type ViewerToken } from "../fleet-storage.js";
import type { Row } from "./rows.js";

/** What both variants derive from a report when they store it: its failure's signature, its CVE findings. */
export function reportDerived(host: string, report: Report): { signature: string | null; findings: { cve: string; score: number | null; pkg: string }[] | null } {
  const signature = resultsOf.failed.includes(report.result) ? errorSignature(report.error ?? report.result, host) : null;
  const raw = report.vulnerabilities?.findings;
  if (!raw) return { signature, findings: null };
  // One row per (CVE, package); the highest score wins when an agent lists a pair twice.
  const byKey = new Map<string, { cve: string; score: number | null; pkg: string }>();
  for (const f of raw) {
    const key = `${f.cve}\u0000${f.package}`;
    const seen = byKey.get(key);
    const score = f.score ?? null;
    if (!seen || (score ?? -1) > (seen.score ?? -1)) byKey.set(key, { cve: f.cve, score, pkg: f.package });
  }
  return { signature, findings: [...byKey.values()] };
}

/** The report as stored: its findings live in host_vulnerabilities, not in every report's body. */
export function storedBody(report: Report): string {
  if (!report.vulnerabilities?.findings) return JSON.stringify(report);
  const { total, whitelisted } = report.vulnerabilities;
  return JSON.stringify({ ...report, vulnerabilities: { total, whitelisted } });
}

export const SQL = {
  failureGroups: `SELECT error_signature AS signature, MIN(received_at) AS first_seen, MAX(received_at) AS last_seen, MAX(id) AS last_id
    FROM reports WHERE error_signature IS NOT NULL GROUP BY error_signature ORDER BY last_seen DESC, signature LIMIT ?`,
  cveOrder: "ORDER BY MAX(score) IS NULL, MAX(score) DESC, COUNT(DISTINCT host) DESC, cve",
};

/** Groups from the three queries: the groups, their hosts, and each group's newest error text. */
export function failureGroupsFrom(groups: Row[], hosts: Row[], examples: Map<number, string>): FailureGroup[] {
  const bySig = new Map<string, FailureGroup["hosts"]>();
  for (const h of hosts) {
    const list = bySig.get(h.signature as string) ?? [];
    list.push({ host: h.host as string, firstSeen: h.first_seen as string, lastSeen: h.last_seen as string, reports: Number(h.n) });
    bySig.set(h.signature as string, list);
  }
  return groups.map((g) => ({
    signature: g.signature as string,
    example: examples.get(Number(g.last_id)) ?? (g.signature as string),
    firstSeen: g.first_seen as string,
    lastSeen: g.last_seen as string,
    hosts: (bySig.get(g.signature as string) ?? []).sort((a, b) => b.lastSeen.localeCompare(a.lastSeen) || a.host.localeCompare(b.host)),
  }));
}

export const cveFrom = (r: Row, packages: string[]): CveRow => ({ cve: r.cve as string, score: r.score == null ? null : Number(r.score), hosts: Number(r.hosts), packages: [...new Set(packages)].sort() });

export const facetFrom = (r: Row): HostFacet => ({ status: r.status as HostStatus, channel: (r.channel as string | null) ?? null, release: r.release == null ? null : Number(r.release), hosts: Number(r.n) });

export const viewerFrom = (r: Row): ViewerToken => ({ id: r.id as string, name: r.name as string, createdAt: r.created_at as string });
