import type { Inventory } from "../migrate/types.js";
import type { Host, Release, ReleaseCreate, Report, ResourceGroup, StoredReport } from "./api.js";

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

  /** Stores a report and updates the host's last result; null when there is no such host. */
  addReport(host: string, report: Report, receivedAt: string): Promise<StoredReport | null>;
  /** Newest first. */
  listReports(host: string, limit: number): Promise<StoredReport[]>;
  /** Applies the retention policy to one host's reports; returns how many were deleted. */
  pruneReports(host: string, policy: RetentionPolicy, now: Date): Promise<number>;

  /**
   * Keeps `inventory` as the latest of legacy host `host` (`migrate inventory --upload`),
   * replacing the one before. Legacy hosts are not directory hosts: no such row is needed.
   */
  putInventory(host: string, inventory: Inventory, receivedAt: string): Promise<InventoryBrief>;
  /** Every legacy host's latest inventory in brief (what the fleet report needs), by host name. */
  listInventories(): Promise<InventoryBrief[]>;
  /** The whole inventory document as it was put; null when none was. */
  getInventory(host: string): Promise<{ host: string; receivedAt: string; inventory: Inventory } | null>;
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
  /** The release the host last reported running, in its channel. */
  lastRelease: { channel: string; number: number } | null;
  /** vulnscan counts from the host's latest report that carried them. */
  lastVulnerabilities: { total: number; whitelisted: number } | null;
}

/** What reports survive: the last `keepLast` per host, and every failure younger than `failureDays`. */
export interface RetentionPolicy {
  keepLast: number;
  failureDays: number;
}

export const defaultRetention: RetentionPolicy = { keepLast: 100, failureDays: 30 };

/** Results whose reports are kept for `failureDays` even beyond the last `keepLast`. */
export const failureResults = ["failed", "timeout"] as const;

export type RolloutState = "canary" | "complete" | "halted";

/** A release on its way through a channel: canary hosts first, then everyone. */
export interface Rollout {
  release: number;
  state: RolloutState;
  canaryHosts: string[];
  succeeded: string[];
  failed: { host: string; error: string }[];
  startedAt: string;
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
