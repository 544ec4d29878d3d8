import type pg from "pg";
import type { Inventory } from "../../../migrate/types.js";
import type { Report, StoredReport } from "../../api.js";
import { CongruentError } from "../../../errors.js";
import type { CveRow, FailureGroup, FleetStorage, HostCve, HostFacet, HostQuery, HostRow, InventorySummary, ViewerToken, ViewerTokenStorage } from "../../fleet-storage.js";
import { cveFrom, facetFrom, failureGroupsFrom, reportDerived, SQL, viewerFrom } from "../fleet-rows.js";
import { facetSql, hostQuerySql, hostRowFrom } from "../host-query.js";
import { rowMappers, type Row } from "../rows.js";

const decode = (v: unknown) => v;
const { report: reportFromRow } = rowMappers(decode);
const dialect = { roleMember: "hosts.roles @> jsonb_build_array(?::text)" };
type Queryable = pg.Pool | pg.PoolClient;

/** `?` placeholders (shared SQL) numbered as PostgreSQL wants them. */
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** The dashboard's queries on PostgreSQL; `record*` take the storage's transaction client. */
export class PostgresFleet implements FleetStorage {
  constructor(private readonly pool: pg.Pool) {}

  private async rows(sql: string, args: unknown[] = [], q: Queryable = this.pool): Promise<Row[]> {
    return (await q.query(numbered(sql), args)).rows as Row[];
  }

  async recordReport(q: pg.PoolClient, host: string, id: number, report: Report): Promise<void> {
    const { signature, findings } = reportDerived(host, report);
    if (signature !== null) await q.query("UPDATE reports SET error_signature = $1 WHERE id = $2", [signature, id]);
    if (findings === null) return;
    await q.query("DELETE FROM host_vulnerabilities WHERE host = $1", [host]);
    if (findings.length === 0) return;
    await q.query("INSERT INTO host_vulnerabilities (host, cve, score, package) SELECT $1, * FROM unnest($2::text[], $3::float8[], $4::text[])", [
      host,
      findings.map((f) => f.cve),
      findings.map((f) => f.score),
      findings.map((f) => f.pkg),
    ]);
  }

  async forgetHost(q: pg.PoolClient, host: string): Promise<void> {
    await q.query("DELETE FROM host_vulnerabilities WHERE host = $1", [host]);
  }

  async recordInventory(q: pg.PoolClient, host: string, inventory: Inventory, receivedAt: string): Promise<void> {
    await q.query("INSERT INTO migrate_inventory_history (host, received_at, summary) VALUES ($1, $2, $3)", [host, receivedAt, JSON.stringify(inventory.summary)]);
  }

  async queryHosts(q: HostQuery): Promise<{ total: number; hosts: HostRow[] }> {
    const sql = hostQuerySql(q, dialect);
    const [count, page] = await Promise.all([this.rows(sql.count, sql.countArgs), this.rows(sql.page, sql.pageArgs)]);
    return { total: Number(count[0]!.n), hosts: page.map((r) => hostRowFrom(r, decode)) };
  }

  async hostFacets(staleBefore: string): Promise<HostFacet[]> {
    return (await this.rows(facetSql, [staleBefore])).map(facetFrom);
  }

  async reportsAfter(afterId: number, limit: number): Promise<StoredReport[]> {
    return (await this.rows("SELECT * FROM reports WHERE id > ? ORDER BY id LIMIT ?", [afterId, limit])).map(reportFromRow);
  }

  async latestReportId(): Promise<number> {
    return Number((await this.rows("SELECT coalesce(MAX(id), 0) AS id FROM reports"))[0]!.id);
  }

  async getReport(host: string, id: number): Promise<StoredReport | null> {
    const [r] = await this.rows("SELECT * FROM reports WHERE host = ? AND id = ?", [host, id]);
    return r ? reportFromRow(r) : null;
  }

  async failureGroups(limit: number): Promise<FailureGroup[]> {
    const groups = await this.rows(SQL.failureGroups, [limit]);
    if (groups.length === 0) return [];
    const hosts = await this.rows(
      `SELECT error_signature AS signature, host, MIN(received_at) AS first_seen, MAX(received_at) AS last_seen, COUNT(*) AS n FROM reports WHERE error_signature = ANY(?) GROUP BY error_signature, host`,
      [groups.map((g) => g.signature)],
    );
    const examples = await this.rows("SELECT id, body->>'error' AS error FROM reports WHERE id = ANY(?)", [groups.map((g) => g.last_id)]);
    return failureGroupsFrom(groups, hosts, new Map(examples.filter((e) => e.error != null).map((e) => [Number(e.id), e.error as string])));
  }

  async listCves(): Promise<CveRow[]> {
    const rows = await this.rows(`SELECT cve, MAX(score) AS score, COUNT(DISTINCT host) AS hosts, array_agg(DISTINCT package) AS packages FROM host_vulnerabilities GROUP BY cve ${SQL.cveOrder}`);
    return rows.map((r) => cveFrom(r, r.packages as string[]));
  }

  async cvesOfHost(host: string): Promise<HostCve[]> {
    const rows = await this.rows(`SELECT cve, MAX(score) AS score, 1 AS hosts, array_agg(package) AS packages FROM host_vulnerabilities WHERE host = ? GROUP BY cve ${SQL.cveOrder}`, [host]);
    return rows.map((r) => {
      const { cve, score, packages } = cveFrom(r, r.packages as string[]);
      return { cve, score, packages };
    });
  }

  async inventoryHistory(): Promise<{ host: string; receivedAt: string; summary: InventorySummary }[]> {
    return (await this.rows("SELECT host, received_at, summary FROM migrate_inventory_history ORDER BY id")).map((r) => ({ host: r.host as string, receivedAt: r.received_at as string, summary: r.summary as InventorySummary }));
  }
}

export class PostgresViewers implements ViewerTokenStorage {
  constructor(private readonly pool: pg.Pool) {}

  async create(t: ViewerToken, tokenHash: string): Promise<ViewerToken> {
    try {
      await this.pool.query("INSERT INTO viewer_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)", [t.id, t.name, tokenHash, t.createdAt]);
    } catch (e) {
      if ((e as { code?: string }).code === "23505") throw new CongruentError("E_DIRECTORY_CONFLICT", `viewer token ${t.name} already exists`);
      throw e;
    }
    return t;
  }

  async list(): Promise<ViewerToken[]> {
    return (await this.pool.query('SELECT id, name, created_at FROM viewer_tokens ORDER BY name COLLATE "C", id COLLATE "C"')).rows.map(viewerFrom);
  }

  async remove(idOrName: string): Promise<boolean> {
    return ((await this.pool.query("DELETE FROM viewer_tokens WHERE id = $1 OR name = $1", [idOrName])).rowCount ?? 0) > 0;
  }

  async byTokenHash(tokenHash: string): Promise<ViewerToken | null> {
    const [r] = (await this.pool.query("SELECT id, name, created_at FROM viewer_tokens WHERE token_hash = $1", [tokenHash])).rows;
    return r ? viewerFrom(r) : null;
  }

  async get(id: string): Promise<ViewerToken | null> {
    const [r] = (await this.pool.query("SELECT id, name, created_at FROM viewer_tokens WHERE id = $1", [id])).rows;
    return r ? viewerFrom(r) : null;
  }
}
