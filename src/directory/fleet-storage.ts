import type { Summary } from "../migrate/types.js";
import type { Host, StoredReport } from "./api.js";

/**
 * What the dashboard (src/web) reads beyond the API's own needs: hosts filtered, sorted and
 * paged in the database, fleet counts, the reports that arrived since an id (live updates),
 * failures grouped by error signature, vulnerabilities by CVE and by host, the migration's
 * progress over time. Part of the {@link Storage} contract as `storage.fleet`; every variant
 * implements it and the conformance suite (storage.case.ts) runs it against each.
 *
 * @example const { total, hosts } = await storage.fleet.queryHosts({ where: [{ field: "status", op: "eq", value: "failed" }], sort: "name", desc: false, limit: 50, offset: 0, staleBefore });
 */
export interface FleetStorage {
  queryHosts(q: HostQuery): Promise<{ total: number; hosts: HostRow[] }>;
  /** Hosts by status, channel and last reported release: what the overview counts. */
  hostFacets(staleBefore: string): Promise<HostFacet[]>;
  /** Reports with an id above `afterId`, oldest first (live updates; several directories may share a database). */
  reportsAfter(afterId: number, limit: number): Promise<StoredReport[]>;
  /** The highest report id so far (0 when none). */
  latestReportId(): Promise<number>;
  getReport(host: string, id: number): Promise<StoredReport | null>;
  /** Stored failures grouped by {@link errorSignature}, the most recently seen first. */
  failureGroups(limit: number): Promise<FailureGroup[]>;
  /** Open CVEs across the fleet (from the findings agents report), highest score first. */
  listCves(): Promise<CveRow[]>;
  /** One host's open CVEs, highest score first. */
  cvesOfHost(host: string): Promise<HostCve[]>;
  /** Every legacy host's inventory summaries as they came in, oldest first (the migration's progress). */
  inventoryHistory(): Promise<{ host: string; receivedAt: string; summary: InventorySummary }[]>;
}

/** Read-only dashboard (and GET /v1) tokens, stored as sha256 like host tokens. */
export interface ViewerTokenStorage {
  create(token: ViewerToken, tokenHash: string): Promise<ViewerToken>;
  list(): Promise<ViewerToken[]>;
  /** By id or name; false when there is none. */
  remove(idOrName: string): Promise<boolean>;
  byTokenHash(tokenHash: string): Promise<ViewerToken | null>;
  get(id: string): Promise<ViewerToken | null>;
}

export interface ViewerToken {
  id: string;
  name: string;
  createdAt: string;
}

/**
 * A host's status as the dashboard shows it: `stale` when its last report is older than the
 * agent's timer interval plus a grace (or it never reported: `never`), else from that report's
 * result (`failed` covers failed, timeout and stale input).
 */
export const hostStatuses = ["ok", "failed", "deferred", "stale", "never"] as const;
export type HostStatus = (typeof hostStatuses)[number];
/** Report results each status stands for (stale and never depend on the time, not the result). */
export const resultsOf: Record<"ok" | "failed" | "deferred", readonly string[]> = {
  ok: ["switched", "unchanged"],
  failed: ["failed", "timeout", "stale"],
  deferred: ["deferred"],
};

export type Comparison = "eq" | "gt" | "ge" | "lt" | "le";
export type HostCondition =
  | { field: "name"; op: "eq" | "contains"; value: string; negate?: boolean }
  | { field: "role" | "channel" | "rg" | "status" | "result" | "cveId"; op: "eq"; value: string; negate?: boolean }
  | { field: "release" | "cve"; op: Comparison; value: number; negate?: boolean };

export const hostSorts = ["name", "status", "rg", "channel", "release", "cve", "last"] as const;
export type HostSort = (typeof hostSorts)[number];

export interface HostQuery {
  /** All must hold. */
  where: HostCondition[];
  sort: HostSort;
  desc: boolean;
  limit: number;
  offset: number;
  /** ISO time: a last report before it makes a host stale. */
  staleBefore: string;
}

export interface HostRow {
  name: string;
  resourceGroup: string;
  roles: string[];
  channel: string | null;
  maintenanceWindow: Host["maintenanceWindow"] | null;
  status: HostStatus;
  lastResult: string | null;
  lastReportAt: string | null;
  /** The release of the host's last report: the one it runs, or one it failed. */
  lastRelease: { channel: string; number: number } | null;
  /** The release the host runs: that of its last report that applied one. */
  runningRelease: { channel: string; number: number } | null;
  /** Open CVE findings of the last report that carried them. */
  cves: number | null;
}

export interface HostFacet {
  status: HostStatus;
  channel: string | null;
  /** The release the hosts run (in `channel` or another). */
  release: number | null;
  hosts: number;
}

export interface FailureGroup {
  signature: string;
  /** The newest error text of the group, as the agent sent it. */
  example: string;
  firstSeen: string;
  lastSeen: string;
  hosts: { host: string; firstSeen: string; lastSeen: string; reports: number }[];
}

export interface CveRow {
  cve: string;
  score: number | null;
  hosts: number;
  packages: string[];
}

export interface HostCve {
  cve: string;
  score: number | null;
  packages: string[];
}

/** A migrate inventory's summary, as `migrate inventory` writes it. */
export type InventorySummary = Summary;
