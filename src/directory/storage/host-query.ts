import { resultsOf, type HostCondition, type HostQuery, type HostRow, type HostStatus } from "../fleet-storage.js";
import type { Row } from "./rows.js";

/**
 * The dashboard's host query compiled to SQL that SQLite and PostgreSQL both run, with `?`
 * placeholders (the PostgreSQL variant numbers them) and bound values only: no value of the
 * query ever becomes SQL text. `roleMember` is the one dialect difference (a JSON array column).
 */
export interface HostQueryDialect {
  /** SQL true when `hosts.roles` (a JSON array of strings) contains the bound value. */
  roleMember: string;
}

const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(", ");
/** The status of each host as of `?` (staleBefore). */
const STATUS = `CASE WHEN last_report_at IS NULL THEN 'never' WHEN last_report_at < ? THEN 'stale'
  WHEN last_result IN (${quoted(resultsOf.failed)}) THEN 'failed' WHEN last_result = 'deferred' THEN 'deferred' ELSE 'ok' END`;
/** Worst first, for sorting by status. */
const STATUS_RANK = `CASE WHEN last_report_at IS NULL THEN 2 WHEN last_report_at < ? THEN 1
  WHEN last_result IN (${quoted(resultsOf.failed)}) THEN 0 WHEN last_result = 'deferred' THEN 3 ELSE 4 END`;

const OPS = { eq: "=", gt: ">", ge: ">=", lt: "<", le: "<=" } as const;
const SORT_COLUMNS = { name: "name", rg: "resource_group", channel: "channel", release: "running_release_number", cve: "last_vulnerabilities", last: "last_report_at" } as const;

function condition(c: HostCondition, staleBefore: string, dialect: HostQueryDialect): { sql: string; args: unknown[] } {
  switch (c.field) {
    case "name":
      return c.op === "eq" ? { sql: "name = ?", args: [c.value] } : { sql: "name LIKE ? ESCAPE '\\'", args: [`%${c.value.replace(/[\\%_]/g, (m) => `\\${m}`)}%`] };
    case "role":
      return { sql: dialect.roleMember, args: [c.value] };
    case "channel":
      return { sql: "channel = ?", args: [c.value] };
    case "rg":
      return { sql: "resource_group = ?", args: [c.value] };
    case "result":
      return { sql: "last_result = ?", args: [c.value] };
    case "status":
      return { sql: `(${STATUS}) = ?`, args: [staleBefore, c.value] };
    case "cveId":
      return { sql: "EXISTS (SELECT 1 FROM host_vulnerabilities v WHERE v.host = hosts.name AND v.cve = ?)", args: [c.value] };
    case "release":
      return { sql: `running_release_number ${OPS[c.op]} ?`, args: [c.value] };
    case "cve":
      return { sql: `last_vulnerabilities ${OPS[c.op]} ?`, args: [c.value] };
  }
}

/** WHERE clause (or "") and its values. */
function hostWhere(q: Pick<HostQuery, "where" | "staleBefore">, dialect: HostQueryDialect): { where: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  for (const c of q.where) {
    const { sql, args: a } = condition(c, q.staleBefore, dialect);
    // IS TRUE: a NULL column (no report yet) neither matches nor, negated, matches by accident.
    parts.push(c.negate ? `NOT ((${sql}) IS TRUE)` : `(${sql}) IS TRUE`);
    args.push(...a);
  }
  return { where: parts.length ? ` WHERE ${parts.join(" AND ")}` : "", args };
}

/** The page query and the count query of a host query. */
export function hostQuerySql(q: HostQuery, dialect: HostQueryDialect): { page: string; pageArgs: unknown[]; count: string; countArgs: unknown[] } {
  const { where, args } = hostWhere(q, dialect);
  const dir = q.desc ? "DESC" : "ASC";
  const orderArgs: unknown[] = [];
  let order: string;
  if (q.sort === "status") {
    order = `${STATUS_RANK} ${dir}, name ASC`;
    orderArgs.push(q.staleBefore);
  } else if (q.sort === "name") {
    order = `name ${dir}`;
  } else {
    const col = SORT_COLUMNS[q.sort];
    order = `(${col} IS NULL) ASC, ${col} ${dir}, name ASC`;
  }
  const page = `SELECT name, resource_group, roles, channel, maintenance_window, last_result, last_report_at, last_release_channel,
    last_release_number, running_release_channel, running_release_number, last_vulnerabilities, ${STATUS} AS status FROM hosts${where} ORDER BY ${order} LIMIT ? OFFSET ?`;
  return { page, pageArgs: [q.staleBefore, ...args, ...orderArgs, q.limit, q.offset], count: `SELECT COUNT(*) AS n FROM hosts${where}`, countArgs: args };
}

/** Counts by status, channel and the release the hosts run (the overview). */
export const facetSql = `SELECT ${STATUS} AS status, channel, running_release_number AS release, COUNT(*) AS n FROM hosts GROUP BY 1, 2, 3`;

/** A page row to a {@link HostRow}; `decode` parses JSON columns where the driver does not. */
export function hostRowFrom(r: Row, decode: (v: unknown) => unknown): HostRow {
  return {
    name: r.name as string,
    resourceGroup: r.resource_group as string,
    roles: decode(r.roles) as string[],
    channel: (r.channel as string | null) ?? null,
    maintenanceWindow: r.maintenance_window == null ? null : (decode(r.maintenance_window) as HostRow["maintenanceWindow"]),
    status: r.status as HostStatus,
    lastResult: (r.last_result as string | null) ?? null,
    lastReportAt: (r.last_report_at as string | null) ?? null,
    lastRelease: r.last_release_number == null ? null : { channel: r.last_release_channel as string, number: Number(r.last_release_number) },
    runningRelease: r.running_release_number == null ? null : { channel: r.running_release_channel as string, number: Number(r.running_release_number) },
    cves: r.last_vulnerabilities == null ? null : Number(r.last_vulnerabilities),
  };
}
