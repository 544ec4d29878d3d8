import pg from "pg";
import type { Inventory } from "../../../migrate/types.js";
import type { Host, Release, ReleaseCreate, Report, ResourceGroup, StoredReport } from "../../api.js";
import { CongruentError } from "../../../errors.js";
import { appliedResults, reportsToDrop, type ReportUsage, type ChannelRecord, type HostFilter, type HostState, type InventoryBrief, type RetentionPolicy, type Storage } from "../../storage.js";
import { migrations } from "./migrations.js";
import { HOST_STATE_COLUMNS, rowMappers, type Row } from "../rows.js";
import { PostgresFleet, PostgresViewers } from "./fleet.js";
import { storedBody } from "../fleet-rows.js";

// JSON columns: jsonb, parsed by pg.
const { host: hostFromRow, channel: channelFromRow, release: releaseFromRow, report: reportFromRow, resourceGroup: rgFromRow, hostState, inventoryBrief, reportMeta } = rowMappers((v) => v);
type Queryable = pg.Pool | pg.PoolClient;

/** Any 32-bit number, the same for every directory: serialises concurrent migrations. */
const MIGRATION_LOCK = 0x636f6e67;

/**
 * Directory storage in PostgreSQL through a `pg` pool, for fleets and for several directory
 * processes sharing one database. Read-modify-write steps lock the row (`FOR UPDATE`).
 *
 * @example const s = await openPostgresStorage("postgres://congruent@db1:5432/congruent");
 */
export async function openPostgresStorage(url: string, poolSize = 10): Promise<PostgresStorage> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client losing its server must not crash the directory; the next query reports it.
  pool.on("error", () => {});
  try {
    const version = await transaction(pool, async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await c.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      const done = new Set((await c.query("SELECT version FROM schema_migrations")).rows.map((r) => r.version as number));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await c.query(m.sql);
        await c.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [m.version, new Date().toISOString()]);
      }
      return (await c.query("SELECT MAX(version) AS v FROM schema_migrations")).rows[0].v as number;
    });
    return new PostgresStorage(pool, version);
  } catch (error) {
    await pool.end().catch(() => {});
    throw new CongruentError("E_DIRECTORY_DB", `${redact(url)}: ${(error as Error).message}`);
  }
}

/** The URL without its password, for messages. */
const redact = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");

async function transaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    const result = await fn(c);
    await c.query("COMMIT");
    return result;
  } catch (error) {
    await c.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    c.release();
  }
}

async function conflict<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { code?: string }).code === "23505") throw new CongruentError("E_DIRECTORY_CONFLICT", `${what} already exists`);
    throw e;
  }
}







const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

function filterSql(filter: HostFilter | undefined): { where: string; args: string[] } {
  const clauses: string[] = [];
  const args: string[] = [];
  if (filter?.resourceGroup !== undefined) {
    args.push(filter.resourceGroup);
    clauses.push(`resource_group = $${args.length}`);
  }
  if (filter?.channel !== undefined) {
    args.push(filter.channel);
    clauses.push(`channel = $${args.length}`);
  }
  return { where: clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "", args };
}

const insertHostSql = `INSERT INTO hosts (name, resource_group, roles, parameters, settings, channel, maintenance_window, token_hash, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;
const insertHostArgs = (h: Host, tokenHash: string) => [
  h.name,
  h.resourceGroup,
  json(h.roles),
  json(h.parameters),
  json(h.settings),
  h.channel ?? null,
  json(h.maintenanceWindow),
  tokenHash,
  h.createdAt,
  h.updatedAt,
];

export class PostgresStorage implements Storage {
  readonly fleet: PostgresFleet;
  readonly viewers: PostgresViewers;

  constructor(
    private readonly pool: pg.Pool,
    readonly schemaVersion: number,
  ) {
    this.fleet = new PostgresFleet(pool);
    this.viewers = new PostgresViewers(pool);
  }

  private async rows(sql: string, args: unknown[] = [], q: Queryable = this.pool): Promise<Row[]> {
    return (await q.query(sql, args)).rows as Row[];
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async createResourceGroup(rg: ResourceGroup): Promise<ResourceGroup> {
    await conflict(`resource group ${rg.name}`, () => this.rows("INSERT INTO resource_groups (name, description, created_at) VALUES ($1, $2, $3)", [rg.name, rg.description ?? null, rg.createdAt]));
    return rg;
  }

  async getResourceGroup(name: string): Promise<ResourceGroup | null> {
    const [r] = await this.rows("SELECT * FROM resource_groups WHERE name = $1", [name]);
    return r ? rgFromRow(r) : null;
  }

  async listResourceGroups(): Promise<ResourceGroup[]> {
    return (await this.rows("SELECT * FROM resource_groups ORDER BY name")).map(rgFromRow);
  }

  async createHost(host: Host, tokenHash: string): Promise<Host> {
    await conflict(`host ${host.name}`, () => this.rows(insertHostSql, insertHostArgs(host, tokenHash)));
    return host;
  }

  async createHosts(hosts: { host: Host; tokenHash: string }[]): Promise<void> {
    await transaction(this.pool, async (c) => {
      for (const { host, tokenHash } of hosts) await conflict(`host ${host.name}`, () => this.rows(insertHostSql, insertHostArgs(host, tokenHash), c));
    });
  }

  async getHost(name: string): Promise<Host | null> {
    const [r] = await this.rows("SELECT * FROM hosts WHERE name = $1", [name]);
    return r ? hostFromRow(r) : null;
  }

  async listHosts(filter?: HostFilter): Promise<Host[]> {
    const { where, args } = filterSql(filter);
    return (await this.rows(`SELECT * FROM hosts${where} ORDER BY name`, args)).map(hostFromRow);
  }

  async updateHost(h: Host): Promise<Host | null> {
    const r = await this.pool.query(
      `UPDATE hosts SET resource_group = $2, roles = $3, parameters = $4, settings = $5, channel = $6, maintenance_window = $7, updated_at = $8 WHERE name = $1`,
      [h.name, h.resourceGroup, json(h.roles), json(h.parameters), json(h.settings), h.channel ?? null, json(h.maintenanceWindow), h.updatedAt],
    );
    return r.rowCount ? h : null;
  }

  async deleteHost(name: string): Promise<boolean> {
    return transaction(this.pool, async (c) => {
      await c.query("DELETE FROM reports WHERE host = $1", [name]);
      await this.fleet.forgetHost(c, name);
      return ((await c.query("DELETE FROM hosts WHERE name = $1", [name])).rowCount ?? 0) > 0;
    });
  }

  async setHostTokenHash(name: string, tokenHash: string): Promise<boolean> {
    return ((await this.pool.query("UPDATE hosts SET token_hash = $1 WHERE name = $2", [tokenHash, name])).rowCount ?? 0) > 0;
  }

  async hostByTokenHash(tokenHash: string): Promise<string | null> {
    const [r] = await this.rows("SELECT name FROM hosts WHERE token_hash = $1", [tokenHash]);
    return (r?.name as string | undefined) ?? null;
  }

  async listHostStates(filter?: HostFilter): Promise<HostState[]> {
    const { where, args } = filterSql(filter);
    const sql = `SELECT ${HOST_STATE_COLUMNS} FROM hosts${where} ORDER BY name`;
    return (await this.rows(sql, args)).map(hostState);
  }

  async createChannel(c: ChannelRecord): Promise<ChannelRecord> {
    await conflict(`channel ${c.name}`, () =>
      this.rows(
        "INSERT INTO channels (name, canary_share, description, created_at, current, previous, rolled_back, rollout) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [c.name, c.canaryShare, c.description ?? null, c.createdAt, c.current, c.previous, c.rolledBack, json(c.rollout)],
      ),
    );
    return c;
  }

  async getChannel(name: string): Promise<ChannelRecord | null> {
    const [r] = await this.rows("SELECT * FROM channels WHERE name = $1", [name]);
    return r ? channelFromRow(r) : null;
  }

  async listChannels(): Promise<ChannelRecord[]> {
    return (await this.rows("SELECT * FROM channels ORDER BY name")).map(channelFromRow);
  }

  async updateChannel(name: string, change: (channel: ChannelRecord) => ChannelRecord | null): Promise<ChannelRecord | null> {
    return transaction(this.pool, async (q) => {
      const [r] = await this.rows("SELECT * FROM channels WHERE name = $1 FOR UPDATE", [name], q);
      if (!r) return null;
      const before = channelFromRow(r);
      const c = change(before);
      if (!c) return before;
      await q.query("UPDATE channels SET canary_share = $1, description = $2, current = $3, previous = $4, rolled_back = $5, rollout = $6 WHERE name = $7", [
        c.canaryShare,
        c.description ?? null,
        c.current,
        c.previous,
        c.rolledBack,
        json(c.rollout),
        name,
      ]);
      return c;
    });
  }

  async createRelease(channel: string, release: ReleaseCreate, createdAt: string): Promise<Release | null> {
    return transaction(this.pool, async (q) => {
      // The row lock taken by UPDATE numbers concurrent releases one after the other.
      const [r] = await this.rows("UPDATE channels SET last_release = last_release + 1 WHERE name = $1 RETURNING last_release", [channel], q);
      if (!r) return null;
      const number = r.last_release as number;
      await q.query("INSERT INTO releases (channel, number, version, defaults, created_at) VALUES ($1, $2, $3, $4, $5)", [channel, number, release.version, json(release.defaults), createdAt]);
      return { channel, number, version: release.version, defaults: release.defaults, createdAt };
    });
  }

  async getRelease(channel: string, number: number): Promise<Release | null> {
    const [r] = await this.rows("SELECT * FROM releases WHERE channel = $1 AND number = $2", [channel, number]);
    return r ? releaseFromRow(r) : null;
  }

  async listReleases(channel: string): Promise<Release[]> {
    return (await this.rows("SELECT * FROM releases WHERE channel = $1 ORDER BY number", [channel])).map(releaseFromRow);
  }

  async addReport(host: string, report: Report, receivedAt: string, retention?: RetentionPolicy): Promise<StoredReport | null> {
    return transaction(this.pool, async (q) => {
      const rel = report.release;
      const v = report.vulnerabilities;
      const applied = (appliedResults as readonly string[]).includes(report.result);
      // The UPDATE locks the host's row: a host's reports are stored (and pruned) one at a time.
      const updated = await q.query(
        `UPDATE hosts SET last_result = $1, last_report_at = $2, last_release_channel = $3, last_release_number = $4,
           running_release_channel = CASE WHEN $8 THEN $3 ELSE running_release_channel END,
           running_release_number = CASE WHEN $8 THEN $4::integer ELSE running_release_number END,
           last_vulnerabilities = coalesce($5, last_vulnerabilities), last_whitelisted = coalesce($6, last_whitelisted) WHERE name = $7`,
        [report.result, receivedAt, rel?.channel ?? null, rel?.number ?? null, v?.total ?? null, v?.whitelisted ?? null, host, applied],
      );
      if (!updated.rowCount) return null;
      const body = storedBody(report);
      const [r] = await this.rows("INSERT INTO reports (host, result, received_at, body, bytes) VALUES ($1, $2, $3, $4, $5) RETURNING id", [host, report.result, receivedAt, body, Buffer.byteLength(body)], q);
      await this.fleet.recordReport(q, host, Number(r!.id), report);
      if (retention) await this.prune(q, host, retention, new Date(receivedAt));
      return { ...report, id: Number(r!.id), host, receivedAt };
    });
  }

  async listReports(host: string, limit: number, before = Number.MAX_SAFE_INTEGER): Promise<StoredReport[]> {
    return (await this.rows("SELECT * FROM reports WHERE host = $1 AND id < $2 ORDER BY id DESC LIMIT $3", [host, before, limit])).map(reportFromRow);
  }

  async pruneReports(host: string, policy: RetentionPolicy, now: Date): Promise<number> {
    return transaction(this.pool, (q) => this.prune(q, host, policy, now));
  }

  private async prune(q: Queryable, host: string, policy: RetentionPolicy, now: Date): Promise<number> {
    const rows = (await this.rows("SELECT id, result, received_at, bytes FROM reports WHERE host = $1 ORDER BY id DESC", [host], q)).map(reportMeta);
    const drop = reportsToDrop(rows, policy, now);
    if (drop.length) await q.query("DELETE FROM reports WHERE id = ANY($1::bigint[])", [drop]);
    return drop.length;
  }

  async reportUsage(host: string): Promise<ReportUsage> {
    const [r] = await this.rows("SELECT count(*) AS reports, coalesce(sum(bytes), 0) AS bytes FROM reports WHERE host = $1", [host]);
    return { reports: Number(r!.reports), bytes: Number(r!.bytes) };
  }

  async putInventory(host: string, inventory: Inventory, receivedAt: string): Promise<InventoryBrief> {
    // The document as TEXT, not jsonb: it is handed back as it came (jsonb would reorder its keys).
    await transaction(this.pool, async (q) => {
      await q.query(
        `INSERT INTO migrate_inventories (host, received_at, summary, blockers, inventory) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (host) DO UPDATE SET received_at = excluded.received_at, summary = excluded.summary, blockers = excluded.blockers, inventory = excluded.inventory`,
        [host, receivedAt, json(inventory.summary), json(inventory.blockers), JSON.stringify(inventory)],
      );
      await this.fleet.recordInventory(q, host, inventory, receivedAt);
    });
    return { host, receivedAt, summary: inventory.summary, blockers: inventory.blockers };
  }

  async listInventories(): Promise<InventoryBrief[]> {
    return (await this.rows("SELECT host, received_at, summary, blockers FROM migrate_inventories ORDER BY host COLLATE \"C\"")).map(inventoryBrief);
  }

  async getInventory(host: string): Promise<{ host: string; receivedAt: string; inventory: Inventory } | null> {
    const [r] = await this.rows("SELECT host, received_at, inventory FROM migrate_inventories WHERE host = $1", [host]);
    return r ? { host: r.host as string, receivedAt: r.received_at as string, inventory: JSON.parse(r.inventory as string) as Inventory } : null;
  }
}
