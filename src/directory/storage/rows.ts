import type { Host, Release, Report, ResourceGroup, StoredReport } from "../api.js";
import type { ChannelRecord, HostState, InventoryBrief, ReportMeta } from "../storage.js";

export type Row = Record<string, unknown>;

/** The columns of `hosts` that {@link HostState} is made of. */
export const HOST_STATE_COLUMNS =
  "name, channel, last_result, last_report_at, last_release_channel, last_release_number, running_release_channel, running_release_number, last_vulnerabilities, last_whitelisted";

/**
 * Rows to records, the same for every backend but for JSON columns: SQLite returns them as
 * text, PostgreSQL (jsonb) already parsed; `decode` says which.
 *
 * @example const rows = rowMappers((v) => JSON.parse(v as string)); rows.host(row)
 */
export function rowMappers(decode: (v: unknown) => unknown) {
  function host(r: Row): Host {
    const h: Host = {
      name: r.name as string,
      resourceGroup: r.resource_group as string,
      roles: decode(r.roles) as Host["roles"],
      parameters: decode(r.parameters) as Host["parameters"],
      settings: decode(r.settings) as Host["settings"],
      createdAt: r.created_at as string,
      updatedAt: r.updated_at as string,
    };
    if (r.channel != null) h.channel = r.channel as string;
    if (r.maintenance_window != null) h.maintenanceWindow = decode(r.maintenance_window) as Host["maintenanceWindow"];
    return h;
  }

  function channel(r: Row): ChannelRecord {
    const c: ChannelRecord = {
      name: r.name as string,
      canaryShare: r.canary_share as number,
      createdAt: r.created_at as string,
      current: (r.current as number | null) ?? null,
      previous: (r.previous as number | null) ?? null,
      rolledBack: Boolean(r.rolled_back),
      rollout: r.rollout == null ? null : (decode(r.rollout) as ChannelRecord["rollout"]),
    };
    if (r.description != null) c.description = r.description as string;
    return c;
  }

  const release = (r: Row): Release => ({
    channel: r.channel as string,
    number: r.number as number,
    version: r.version as string,
    defaults: decode(r.defaults) as Release["defaults"],
    createdAt: r.created_at as string,
  });

  const report = (r: Row): StoredReport => ({ ...(decode(r.body) as Report), id: Number(r.id), host: r.host as string, receivedAt: r.received_at as string });

  const resourceGroup = (r: Row): ResourceGroup =>
    r.description == null ? { name: r.name as string, createdAt: r.created_at as string } : { name: r.name as string, description: r.description as string, createdAt: r.created_at as string };

  const hostState = (r: Row): HostState => ({
    name: r.name as string,
    channel: (r.channel as string | null) ?? null,
    lastResult: (r.last_result as string | null) ?? null,
    lastReportAt: (r.last_report_at as string | null) ?? null,
    lastRelease: r.last_release_number == null ? null : { channel: r.last_release_channel as string, number: r.last_release_number as number },
    runningRelease: r.running_release_number == null ? null : { channel: r.running_release_channel as string, number: r.running_release_number as number },
    lastVulnerabilities: r.last_vulnerabilities == null ? null : { total: Number(r.last_vulnerabilities), whitelisted: Number(r.last_whitelisted) },
  });

  const inventoryBrief = (r: Row): InventoryBrief => ({
    host: r.host as string,
    receivedAt: r.received_at as string,
    summary: decode(r.summary) as InventoryBrief["summary"],
    blockers: decode(r.blockers) as InventoryBrief["blockers"],
  });

  const reportMeta = (r: Row): ReportMeta => ({ id: Number(r.id), result: r.result as string, receivedAt: r.received_at as string, bytes: Number(r.bytes) });

  return { host, channel, release, report, resourceGroup, hostState, inventoryBrief, reportMeta };
}
