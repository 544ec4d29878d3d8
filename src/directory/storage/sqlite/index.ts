import { chmodSync, closeSync, mkdirSync, openSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { Inventory } from "../../../migrate/types.js";
import type { Host, Release, ReleaseCreate, Report, ResourceGroup, StoredReport } from "../../api.js";
import { CongruentError } from "../../../errors.js";
import { appliedResults, reportsToDrop, type ChannelRecord, type HostFilter, type HostState, type InventoryBrief, type ReportUsage, type RetentionPolicy, type Storage } from "../../storage.js";
import { migrations } from "./migrations.js";
import { HOST_STATE_COLUMNS, rowMappers, type Row } from "../rows.js";
import { SqliteFleet, SqliteViewers } from "./fleet.js";
import { storedBody } from "../fleet-rows.js";

// JSON columns: text in SQLite.
const { host: hostFromRow, channel: channelFromRow, release: releaseFromRow, report: reportFromRow, resourceGroup: rgFromRow, hostState, inventoryBrief, reportMeta } = rowMappers((v) => JSON.parse(v as string));

/**
 * Directory storage in one SQLite file (WAL, prepared statements). better-sqlite3 is
 * synchronous: every method finishes before it returns its promise, so a transaction never
 * interleaves with another request.
 *
 * @example const s = openSqliteStorage("/var/lib/congruent/directory.db"); await s.listHosts();
 */
export function openSqliteStorage(file: string): SqliteStorage {
  let db: Database.Database;
  try {
    if (file !== ":memory:") ownerOnly(file);
    db = new Database(file);
    db.pragma("journal_mode = WAL");
    // After a checkpoint the WAL shrinks back to this, whatever a burst of writes made it.
    db.pragma(`journal_size_limit = ${8 * 1024 * 1024}`);
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    const version = migrate(db);
    return new SqliteStorage(db, version);
  } catch (error) {
    throw new CongruentError("E_DIRECTORY_DB", `sqlite:${file}: ${(error as Error).message}`);
  }
}

/**
 * The database holds every host's description and its token hash: it is made 0600 before
 * SQLite opens it, and an older, wider one is narrowed. SQLite gives the WAL and shared-memory
 * files the database file's mode, so they are 0600 too (narrowed here as well if they exist).
 */
function ownerOnly(file: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  closeSync(openSync(file, "a", 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
}

function migrate(db: Database.Database): number {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  // IMMEDIATE: two directories opening one file at once must not both run a step.
  const run = db.transaction(() => {
    const done = new Set((db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(m.version, new Date().toISOString());
    }
  });
  run.immediate();
  return (db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number }).v;
}

const isUnique = (e: unknown) => (e as { code?: string }).code?.startsWith("SQLITE_CONSTRAINT") ?? false;

function conflict<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isUnique(e)) throw new CongruentError("E_DIRECTORY_CONFLICT", `${what} already exists`);
    throw e;
  }
}







function hostParams(h: Host) {
  return {
    name: h.name,
    resource_group: h.resourceGroup,
    roles: JSON.stringify(h.roles),
    parameters: JSON.stringify(h.parameters),
    settings: JSON.stringify(h.settings),
    channel: h.channel ?? null,
    maintenance_window: h.maintenanceWindow ? JSON.stringify(h.maintenanceWindow) : null,
    created_at: h.createdAt,
    updated_at: h.updatedAt,
  };
}

function filterSql(filter: HostFilter | undefined): { where: string; args: string[] } {
  const clauses: string[] = [];
  const args: string[] = [];
  if (filter?.resourceGroup !== undefined) {
    clauses.push("resource_group = ?");
    args.push(filter.resourceGroup);
  }
  if (filter?.channel !== undefined) {
    clauses.push("channel = ?");
    args.push(filter.channel);
  }
  return { where: clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "", args };
}

export class SqliteStorage implements Storage {
  private readonly st;
  readonly fleet: SqliteFleet;
  readonly viewers: SqliteViewers;

  constructor(
    private readonly db: Database.Database,
    readonly schemaVersion: number,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.fleet = new SqliteFleet(db);
    this.viewers = new SqliteViewers(db);
    this.st = {
      insertRg: p("INSERT INTO resource_groups (name, description, created_at) VALUES (?, ?, ?)"),
      getRg: p("SELECT * FROM resource_groups WHERE name = ?"),
      listRg: p("SELECT * FROM resource_groups ORDER BY name"),
      insertHost: p(
        `INSERT INTO hosts (name, resource_group, roles, parameters, settings, channel, maintenance_window, token_hash, created_at, updated_at)
         VALUES (@name, @resource_group, @roles, @parameters, @settings, @channel, @maintenance_window, @token_hash, @created_at, @updated_at)`,
      ),
      getHost: p("SELECT * FROM hosts WHERE name = ?"),
      updateHost: p(
        `UPDATE hosts SET resource_group = @resource_group, roles = @roles, parameters = @parameters, settings = @settings,
         channel = @channel, maintenance_window = @maintenance_window, updated_at = @updated_at WHERE name = @name`,
      ),
      deleteHost: p("DELETE FROM hosts WHERE name = ?"),
      deleteReports: p("DELETE FROM reports WHERE host = ?"),
      setToken: p("UPDATE hosts SET token_hash = ? WHERE name = ?"),
      byToken: p("SELECT name FROM hosts WHERE token_hash = ?").pluck(),
      insertChannel: p(
        "INSERT INTO channels (name, canary_share, description, created_at, current, previous, rolled_back, rollout) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      getChannel: p("SELECT * FROM channels WHERE name = ?"),
      listChannels: p("SELECT * FROM channels ORDER BY name"),
      updateChannel: p("UPDATE channels SET canary_share = ?, description = ?, current = ?, previous = ?, rolled_back = ?, rollout = ? WHERE name = ?"),
      nextRelease: p("UPDATE channels SET last_release = last_release + 1 WHERE name = ? RETURNING last_release").pluck(),
      insertRelease: p("INSERT INTO releases (channel, number, version, defaults, created_at) VALUES (?, ?, ?, ?, ?)"),
      getRelease: p("SELECT * FROM releases WHERE channel = ? AND number = ?"),
      listReleases: p("SELECT * FROM releases WHERE channel = ? ORDER BY number"),
      insertReport: p("INSERT INTO reports (host, result, received_at, body, bytes) VALUES (?, ?, ?, ?, ?)"),
      lastResult: p(
        `UPDATE hosts SET last_result = @result, last_report_at = @at, last_release_channel = @channel, last_release_number = @number,
           running_release_channel = CASE WHEN @applied THEN @channel ELSE running_release_channel END,
           running_release_number = CASE WHEN @applied THEN @number ELSE running_release_number END,
           last_vulnerabilities = coalesce(@total, last_vulnerabilities), last_whitelisted = coalesce(@whitelisted, last_whitelisted) WHERE name = @host`,
      ),
      listReports: p("SELECT * FROM reports WHERE host = ? AND id < ? ORDER BY id DESC LIMIT ?"),
      // Answered from the index alone: the bodies are not read.
      reportMeta: p("SELECT id, result, received_at, bytes FROM reports WHERE host = ? ORDER BY id DESC"),
      deleteReport: p("DELETE FROM reports WHERE id = ?"),
      usage: p("SELECT count(*) AS reports, coalesce(sum(bytes), 0) AS bytes FROM reports WHERE host = ?"),
      putInventory: p(
        `INSERT INTO migrate_inventories (host, received_at, summary, blockers, inventory) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (host) DO UPDATE SET received_at = excluded.received_at, summary = excluded.summary, blockers = excluded.blockers, inventory = excluded.inventory`,
      ),
      listInventories: p("SELECT host, received_at, summary, blockers FROM migrate_inventories ORDER BY host"),
      getInventory: p("SELECT host, received_at, inventory FROM migrate_inventories WHERE host = ?"),
    };
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async createResourceGroup(rg: ResourceGroup): Promise<ResourceGroup> {
    conflict(`resource group ${rg.name}`, () => this.st.insertRg.run(rg.name, rg.description ?? null, rg.createdAt));
    return rg;
  }

  async getResourceGroup(name: string): Promise<ResourceGroup | null> {
    const r = this.st.getRg.get(name) as Row | undefined;
    return r ? rgFromRow(r) : null;
  }

  async listResourceGroups(): Promise<ResourceGroup[]> {
    return (this.st.listRg.all() as Row[]).map(rgFromRow);
  }

  async createHost(host: Host, tokenHash: string): Promise<Host> {
    conflict(`host ${host.name}`, () => this.st.insertHost.run({ ...hostParams(host), token_hash: tokenHash }));
    return host;
  }

  async createHosts(hosts: { host: Host; tokenHash: string }[]): Promise<void> {
    this.db.transaction(() => {
      for (const { host, tokenHash } of hosts) conflict(`host ${host.name}`, () => this.st.insertHost.run({ ...hostParams(host), token_hash: tokenHash }));
    })();
  }

  async getHost(name: string): Promise<Host | null> {
    const r = this.st.getHost.get(name) as Row | undefined;
    return r ? hostFromRow(r) : null;
  }

  async listHosts(filter?: HostFilter): Promise<Host[]> {
    const { where, args } = filterSql(filter);
    return (this.db.prepare(`SELECT * FROM hosts${where} ORDER BY name`).all(...args) as Row[]).map(hostFromRow);
  }

  async updateHost(host: Host): Promise<Host | null> {
    return this.st.updateHost.run(hostParams(host)).changes ? host : null;
  }

  async deleteHost(name: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.st.deleteReports.run(name);
      this.fleet.forgetHost(name);
      return this.st.deleteHost.run(name).changes > 0;
    })();
  }

  async setHostTokenHash(name: string, tokenHash: string): Promise<boolean> {
    return this.st.setToken.run(tokenHash, name).changes > 0;
  }

  async hostByTokenHash(tokenHash: string): Promise<string | null> {
    return (this.st.byToken.get(tokenHash) as string | undefined) ?? null;
  }

  async listHostStates(filter?: HostFilter): Promise<HostState[]> {
    const { where, args } = filterSql(filter);
    const sql = `SELECT ${HOST_STATE_COLUMNS} FROM hosts${where} ORDER BY name`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(hostState);
  }

  async createChannel(c: ChannelRecord): Promise<ChannelRecord> {
    conflict(`channel ${c.name}`, () =>
      this.st.insertChannel.run(c.name, c.canaryShare, c.description ?? null, c.createdAt, c.current, c.previous, c.rolledBack ? 1 : 0, c.rollout ? JSON.stringify(c.rollout) : null),
    );
    return c;
  }

  async getChannel(name: string): Promise<ChannelRecord | null> {
    const r = this.st.getChannel.get(name) as Row | undefined;
    return r ? channelFromRow(r) : null;
  }

  async listChannels(): Promise<ChannelRecord[]> {
    return (this.st.listChannels.all() as Row[]).map(channelFromRow);
  }

  async updateChannel(name: string, change: (channel: ChannelRecord) => ChannelRecord | null): Promise<ChannelRecord | null> {
    return this.db.transaction(() => {
      const r = this.st.getChannel.get(name) as Row | undefined;
      if (!r) return null;
      const before = channelFromRow(r);
      const c = change(before);
      if (!c) return before;
      this.st.updateChannel.run(c.canaryShare, c.description ?? null, c.current, c.previous, c.rolledBack ? 1 : 0, c.rollout ? JSON.stringify(c.rollout) : null, name);
      return c;
    }).immediate();
  }

  async createRelease(channel: string, release: ReleaseCreate, createdAt: string): Promise<Release | null> {
    return this.db.transaction(() => {
      const number = this.st.nextRelease.get(channel) as number | undefined;
      if (number === undefined) return null;
      this.st.insertRelease.run(channel, number, release.version, JSON.stringify(release.defaults), createdAt);
      return { channel, number, version: release.version, defaults: release.defaults, createdAt };
    }).immediate();
  }

  async getRelease(channel: string, number: number): Promise<Release | null> {
    const r = this.st.getRelease.get(channel, number) as Row | undefined;
    return r ? releaseFromRow(r) : null;
  }

  async listReleases(channel: string): Promise<Release[]> {
    return (this.st.listReleases.all(channel) as Row[]).map(releaseFromRow);
  }

  async addReport(host: string, report: Report, receivedAt: string, retention?: RetentionPolicy): Promise<StoredReport | null> {
    return this.db.transaction(() => {
      const rel = report.release;
      const v = report.vulnerabilities;
      const applied = (appliedResults as readonly string[]).includes(report.result) ? 1 : 0;
      const row = { result: report.result, at: receivedAt, channel: rel?.channel ?? null, number: rel?.number ?? null, applied, total: v?.total ?? null, whitelisted: v?.whitelisted ?? null, host };
      if (!this.st.lastResult.run(row).changes) return null;
      const body = storedBody(report);
      const id = Number(this.st.insertReport.run(host, report.result, receivedAt, body, Buffer.byteLength(body)).lastInsertRowid);
      this.fleet.recordReport(host, id, report);
      if (retention) this.prune(host, retention, new Date(receivedAt));
      return { ...report, id, host, receivedAt };
    })();
  }

  async listReports(host: string, limit: number, before = Number.MAX_SAFE_INTEGER): Promise<StoredReport[]> {
    return (this.st.listReports.all(host, before, limit) as Row[]).map(reportFromRow);
  }

  async pruneReports(host: string, policy: RetentionPolicy, now: Date): Promise<number> {
    return this.db.transaction(() => this.prune(host, policy, now))();
  }

  private prune(host: string, policy: RetentionPolicy, now: Date): number {
    const rows = (this.st.reportMeta.all(host) as Row[]).map(reportMeta);
    const drop = reportsToDrop(rows, policy, now);
    for (const id of drop) this.st.deleteReport.run(id);
    return drop.length;
  }

  async reportUsage(host: string): Promise<ReportUsage> {
    const r = this.st.usage.get(host) as Row;
    return { reports: Number(r.reports), bytes: Number(r.bytes) };
  }

  async putInventory(host: string, inventory: Inventory, receivedAt: string): Promise<InventoryBrief> {
    this.db.transaction(() => {
      this.st.putInventory.run(host, receivedAt, JSON.stringify(inventory.summary), JSON.stringify(inventory.blockers), JSON.stringify(inventory));
      this.fleet.recordInventory(host, inventory, receivedAt);
    })();
    return { host, receivedAt, summary: inventory.summary, blockers: inventory.blockers };
  }

  async listInventories(): Promise<InventoryBrief[]> {
    return (this.st.listInventories.all() as Row[]).map(inventoryBrief);
  }

  async getInventory(host: string): Promise<{ host: string; receivedAt: string; inventory: Inventory } | null> {
    const r = this.st.getInventory.get(host) as Row | undefined;
    return r ? { host: r.host as string, receivedAt: r.received_at as string, inventory: JSON.parse(r.inventory as string) as Inventory } : null;
  }
}
