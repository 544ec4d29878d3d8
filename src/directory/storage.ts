import type { Inventory } from "../migrate/types.js";
import type { Host, Release, ReleaseCreate, Report, ResourceGroup, StoredReport } from "./api.js";
import type { FleetStorage, ViewerTokenStorage } from "./fleet-storage.js";

/**
 * Where the directory keeps its state. One contract, two variants:
 * `storage/sqlite/` (better-sqlite3, the default) and `storage/postgres/` (pg, for fleets);
 * `storage/index.ts` picks one by URL. Every method is async so both variants fit.
 *
 * Duplicates throw `CongruentError("E_DIRECTORY_CONFLICT")`; lookups of what does not exist
 * return `null` (the HTTP layer turns that into 404). Times are ISO-8601 strings in UTC.
 *
 * @example const storage = await openStorage("sqlite:/var/lib/congruent/directory.db");
 *          await storage.createResourceGroup({ name: "acme", createdAt: new Date().toISOString() });
 */
export interface Storage {
  /** Schema version after the migrations that ran at open. */
  readonly schemaVersion: number;
  close(): Promise<void>;

  createResourceGroup(rg: ResourceGroup): Promise<ResourceGroup>;
  getResourceGroup(name: string): Promise<ResourceGroup | null>;
  listResourceGroups(): Promise<ResourceGroup[]>;

  /** Adds a host with the sha256 (hex) of its token; the token itself is never stored. */
  createHost(host: Host, tokenHash: string): Promise<Host>;
  /** Many hosts in one transaction (benchmarks, imports). */
  createHosts(hosts: { host: Host; tokenHash: string }[]): Promise<void>;
  getHost(name: string): Promise<Host | null>;
  listHosts(filter?: HostFilter): Promise<Host[]>;
  /** Replaces every field of the host but `name` and `createdAt`; null when there is no such host. */
  updateHost(host: Host): Promise<Host | null>;
  /** Deletes the host and its reports. */
  deleteHost(name: string): Promise<boolean>;
  setHostTokenHash(name: string, tokenHash: string): Promise<boolean>;
  /** The hot path of every agent poll: one indexed lookup. */
  hostByTokenHash(tokenHash: string): Promise<string | null>;
  /** Every host's last report, in brief (metrics, channel status). */
  listHostStates(filter?: HostFilter): Promise<HostState[]>;

  createChannel(channel: ChannelRecord): Promise<ChannelRecord>;
  getChannel(name: string): Promise<ChannelRecord | null>;
  listChannels(): Promise<ChannelRecord[]>;
  /**
   * Read-modify-write of one channel (current/previous release, rollout) under a lock:
   * concurrent reports from canaries must not lose each other's updates. `change` returns the
   * new record, or null to leave it alone. Returns the stored record (null: no such channel).
   */
  updateChannel(name: string, change: (channel: ChannelRecord) => ChannelRecord | null): Promise<ChannelRecord | null>;

  /** Appends an immutable release with the channel's next number (1, 2, …); null: no such channel. */
  createRelease(channel: string, release: ReleaseCreate, createdAt: string): Promise<Release | null>;
  getRelease(channel: string, number: number): Promise<Release | null>;
  listReleases(channel: string): Promise<Release[]>;

  /**
   * Stores a report and updates the host's last result (and the release it runs, when the
   * report says it applied one); null when there is no such host. With `retention`, the host's
   * reports are held to it in the same transaction, so no host ever holds more than its caps.
   */
  addReport(host: string, report: Report, receivedAt: string, retention?: RetentionPolicy): Promise<StoredReport | null>;
  /** Newest first; `before` (a report id) pages back through the history. */
  listReports(host: string, limit: number, before?: number): Promise<StoredReport[]>;
  /** Applies the retention policy to one host's reports; returns how many were deleted. */
  pruneReports(host: string, policy: RetentionPolicy, now: Date): Promise<number>;
  /** How many reports the host holds and their size (the JSON bodies, bytes). */
  reportUsage(host: string): Promise<ReportUsage>;

  /**
   * Keeps `inventory` as the latest of legacy host `host` (`migrate inventory --upload`),
   * replacing the one before. Legacy hosts are not directory hosts: no such row is needed.
   */
  putInventory(host: string, inventory: Inventory, receivedAt: string): Promise<InventoryBrief>;
  /** Every legacy host's latest inventory in brief (what the fleet report needs), by host name. */
  listInventories(): Promise<InventoryBrief[]>;
  /** The whole inventory document as it was put; null when none was. */
  getInventory(host: string): Promise<{ host: string; receivedAt: string; inventory: Inventory } | null>;

  /** The dashboard's queries (src/web): see fleet-storage.ts. */
  readonly fleet: FleetStorage;
  /** Read-only viewer tokens (`congruent token add --viewer`). */
  readonly viewers: ViewerTokenStorage;
}

/** A stored inventory without its facts and items: what the fleet report reads. */
export interface InventoryBrief {
  host: string;
  receivedAt: string;
  summary: Inventory["summary"];
  blockers: Inventory["blockers"];
}

export interface HostFilter {
  resourceGroup?: string;
  channel?: string;
}

export interface HostState {
  name: string;
  channel: string | null;
  lastResult: string | null;
  lastReportAt: string | null;
  /** The release of the host's last report (the one it ran, or failed, or refused). */
  lastRelease: { channel: string; number: number } | null;
  /** The release the host runs: that of its last report that applied one (switched, unchanged or deferred). */
  runningRelease: { channel: string; number: number } | null;
  /** vulnscan counts from the host's latest report that carried them. */
  lastVulnerabilities: { total: number; whitelisted: number } | null;
}

export interface ReportUsage {
  reports: number;
  bytes: number;
}

/**
 * What reports survive, per host (never across hosts: one host's reports cannot push out
 * another's): the last `keepLast`, and failures younger than `failureDays` beyond them; and
 * of all these, newest first, no more than `maxReports` reports and `maxBytes` bytes in all
 * (the newest report always stays). So a host that floods keeps its newest failures and a
 * bounded history, whatever it sends.
 */
export interface RetentionPolicy {
  keepLast: number;
  failureDays: number;
  /** Cap on a host's reports, failures included (default: no cap). */
  maxReports?: number;
  /** Cap on the bytes of a host's reports, failures included (default: no cap). */
  maxBytes?: number;
}

/** 100 reports a host ~ 17 hours at the agent's 10-minute timer; 4 MiB ~ 1 000 ordinary reports. */
export const defaultRetention: Required<RetentionPolicy> = { keepLast: 100, failureDays: 30, maxReports: 200, maxBytes: 4 * 1024 * 1024 };

/** Results whose reports are kept for `failureDays` even beyond the last `keepLast`. */
export const failureResults = ["failed", "timeout"] as const;

/** Results that mean the host applied the release it was given (restarts may still wait: deferred). */
export const appliedResults = ["switched", "unchanged", "deferred"] as const;

/** What retention needs of one stored report. */
export interface ReportMeta {
  id: number;
  result: string;
  receivedAt: string;
  bytes: number;
}

/**
 * The ids of the reports `policy` drops, given a host's reports newest first. One algorithm
 * for every storage variant: each reads the rows, asks this, deletes what it names.
 *
 * @example reportsToDrop(rows, { keepLast: 100, failureDays: 30, maxBytes: 4 << 20 }, new Date())
 */
export function reportsToDrop(rows: ReportMeta[], policy: RetentionPolicy, now: Date): number[] {
  const cutoff = new Date(now.getTime() - policy.failureDays * 86_400_000).toISOString();
  const isFailure = (r: ReportMeta) => (failureResults as readonly string[]).includes(r.result);
  const drop: number[] = [];
  let reports = 0;
  let bytes = 0;
  let full = false;
  rows.forEach((r, i) => {
    const wanted = i < policy.keepLast || (isFailure(r) && r.receivedAt >= cutoff);
    // Once the caps are reached nothing older stays: the history kept has no holes.
    full ||= i > 0 && (reports + 1 > (policy.maxReports ?? Infinity) || bytes + r.bytes > (policy.maxBytes ?? Infinity));
    if (wanted && !full) {
      reports++;
      bytes += r.bytes;
    } else drop.push(r.id);
  });
  return drop;
}

export type RolloutState = "canary" | "complete" | "halted";

/** A release on its way through a channel: canary hosts first, then everyone. */
export interface Rollout {
  release: number;
  state: RolloutState;
  canaryHosts: string[];
  /** Canaries that applied all of the release (nothing deferred). */
  succeeded: string[];
  failed: { host: string; error: string }[];
  /**
   * Canaries that applied the release but deferred a restart to their maintenance window: the
   * release has not run there yet, so it proves nothing until they report it applied.
   */
  waiting?: string[];
  startedAt: string;
  /** When an admin moved the rollout on without waiting for its canaries (`channel continue`). */
  forcedAt?: string;
  /** Set while an admin paused the rollout (state halted): who and when. */
  paused?: { by: string; at: string };
}

export interface ChannelRecord {
  name: string;
  canaryShare: number;
  description?: string;
  createdAt: string;
  /** The release promoted last (or rolled back to). */
  current: number | null;
  /** What hosts outside the canary run while a rollout is not complete. */
  previous: number | null;
  /** `current` was set by an admin's deliberate rollback. */
  rolledBack: boolean;
  rollout: Rollout | null;
}
