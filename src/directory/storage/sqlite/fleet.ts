import type Database from "better-sqlite3";
import type { Inventory } from "../../../migrate/types.js";
import type { Report, StoredReport } from "../../api.js";
import { CongruentError } from "../../../errors.js";
import type { CveRow, FailureGroup, FleetStorage, HostCve, HostFacet, HostQuery, HostRow, InventorySummary, ViewerToken, ViewerTokenStorage } from "../../fleet-storage.js";
import { cveFrom, facetFrom, failureGroupsFrom, reportDerived, SQL, viewerFrom } from "../fleet-rows.js";
import { facetSql, hostQuerySql, hostRowFrom } from "../host-query.js";
import { rowMappers, type Row } from "../rows.js";

const decode = (v: unknown) => JSON.parse(v as string);
const { report: reportFromRow } = rowMappers(decode);
const dialect = { roleMember: "EXISTS (SELECT 1 FROM json_each(hosts.roles) WHERE json_each.value = ?)" };

/** The dashboard's queries on SQLite; `record*` run inside the storage's own transactions. */
export class SqliteFleet implements FleetStorage {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      signature: p("UPDATE reports SET error_signature = ? WHERE id = ?"),
      clearCves: p("DELETE FROM host_vulnerabilities WHERE host = ?"),
      insertCve: p("INSERT INTO host_vulnerabilities (host, cve, score, package) VALUES (?, ?, ?, ?)"),
      history: p("INSERT INTO migrate_inventory_history (host, received_at, summary) VALUES (?, ?, ?)"),
      facets: p(facetSql),
      after: p("SELECT * FROM reports WHERE id > ? ORDER BY id LIMIT ?"),
      latest: p("SELECT coalesce(MAX(id), 0) FROM reports").pluck(),
      one: p("SELECT * FROM reports WHERE host = ? AND id = ?"),
      groups: p(SQL.failureGroups),
      cves: p(`SELECT cve, MAX(score) AS score, COUNT(DISTINCT host) AS hosts, json_group_array(DISTINCT package) AS packages FROM host_vulnerabilities GROUP BY cve ${SQL.cveOrder}`),
      hostCves: p(`SELECT cve, MAX(score) AS score, 1 AS hosts, json_group_array(package) AS packages FROM host_vulnerabilities WHERE host = ? GROUP BY cve ${SQL.cveOrder}`),
      inventoryHistory: p("SELECT host, received_at, summary FROM migrate_inventory_history ORDER BY id"),
    };
  }

  recordReport(host: string, id: number, report: Report): void {
    const { signature, findings } = reportDerived(host, report);
    if (signature !== null) this.st.signature.run(signature, id);
    if (findings === null) return;
    this.st.clearCves.run(host);
    for (const f of findings) this.st.insertCve.run(host, f.cve, f.score, f.pkg);
  }

  forgetHost(host: string): void {
    this.st.clearCves.run(host);
  }

  recordInventory(host: string, inventory: Inventory, receivedAt: string): void {
    this.st.history.run(host, receivedAt, JSON.stringify(inventory.summary));
  }

  async queryHosts(q: HostQuery): Promise<{ total: number; hosts: HostRow[] }> {
    const sql = hostQuerySql(q, dialect);
    const total = (this.db.prepare(sql.count).get(...sql.countArgs) as { n: number }).n;
    const hosts = (this.db.prepare(sql.page).all(...sql.pageArgs) as Row[]).map((r) => hostRowFrom(r, decode));
    return { total, hosts };
  }

  async hostFacets(staleBefore: string): Promise<HostFacet[]> {
    return (this.st.facets.all(staleBefore) as Row[]).map(facetFrom);
  }

  async reportsAfter(afterId: number, limit: number): Promise<StoredReport[]> {
    return (this.st.after.all(afterId, limit) as Row[]).map(reportFromRow);
  }

  async latestReportId(): Promise<number> {
    return this.st.latest.get() as number;
  }

  async getReport(host: string, id: number): Promise<StoredReport | null> {
    const r = this.st.one.get(host, id) as Row | undefined;
    return r ? reportFromRow(r) : null;
  }

  async failureGroups(limit: number): Promise<FailureGroup[]> {
    const groups = this.st.groups.all(limit) as Row[];
    if (groups.length === 0) return [];
    const marks = groups.map(() => "?").join(", ");
    const signatures = groups.map((g) => g.signature);
    const hosts = this.db
      .prepare(`SELECT error_signature AS signature, host, MIN(received_at) AS first_seen, MAX(received_at) AS last_seen, COUNT(*) AS n FROM reports WHERE error_signature IN (${marks}) GROUP BY error_signature, host`)
      .all(...signatures) as Row[];
    const ids = groups.map((g) => g.last_id);
    const examples = this.db.prepare(`SELECT id, json_extract(body, '$.error') AS error FROM reports WHERE id IN (${marks})`).all(...ids) as Row[];
    return failureGroupsFrom(groups, hosts, new Map(examples.filter((e) => e.error != null).map((e) => [Number(e.id), e.error as string])));
  }

  async listCves(): Promise<CveRow[]> {
    return (this.st.cves.all() as Row[]).map((r) => cveFrom(r, decode(r.packages) as string[]));
  }

  async cvesOfHost(host: string): Promise<HostCve[]> {
    return (this.st.hostCves.all(host) as Row[]).map((r) => {
      const { cve, score, packages } = cveFrom(r, decode(r.packages) as string[]);
      return { cve, score, packages };
    });
  }

  async inventoryHistory(): Promise<{ host: string; receivedAt: string; summary: InventorySummary }[]> {
    return (this.st.inventoryHistory.all() as Row[]).map((r) => ({ host: r.host as string, receivedAt: r.received_at as string, summary: decode(r.summary) as InventorySummary }));
  }
}

export class SqliteViewers implements ViewerTokenStorage {
  private readonly st;

  constructor(db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      insert: p("INSERT INTO viewer_tokens (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)"),
      list: p("SELECT id, name, created_at FROM viewer_tokens ORDER BY name, id"),
      remove: p("DELETE FROM viewer_tokens WHERE id = ? OR name = ?"),
      byHash: p("SELECT id, name, created_at FROM viewer_tokens WHERE token_hash = ?"),
      get: p("SELECT id, name, created_at FROM viewer_tokens WHERE id = ?"),
    };
  }

  async create(t: ViewerToken, tokenHash: string): Promise<ViewerToken> {
    try {
      this.st.insert.run(t.id, t.name, tokenHash, t.createdAt);
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith("SQLITE_CONSTRAINT")) throw new CongruentError("E_DIRECTORY_CONFLICT", `viewer token ${t.name} already exists`);
      throw e;
    }
    return t;
  }

  async list(): Promise<ViewerToken[]> {
    return (this.st.list.all() as Row[]).map(viewerFrom);
  }

  async remove(idOrName: string): Promise<boolean> {
    return this.st.remove.run(idOrName, idOrName).changes > 0;
  }

  async byTokenHash(tokenHash: string): Promise<ViewerToken | null> {
    const r = this.st.byHash.get(tokenHash) as Row | undefined;
    return r ? viewerFrom(r) : null;
  }

  async get(id: string): Promise<ViewerToken | null> {
    const r = this.st.get.get(id) as Row | undefined;
    return r ? viewerFrom(r) : null;
  }
}
