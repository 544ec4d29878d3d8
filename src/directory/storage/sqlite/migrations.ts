/**
 * The SQLite schema, one numbered step at a time. A step never changes once released; a new
 * need is a new step. `schema_migrations` records what ran, so opening is idempotent.
 */
export const migrations: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE resource_groups (
  name TEXT PRIMARY KEY,
  description TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE hosts (
  name TEXT PRIMARY KEY,
  resource_group TEXT NOT NULL,
  roles TEXT NOT NULL,
  parameters TEXT NOT NULL,
  settings TEXT NOT NULL,
  channel TEXT,
  maintenance_window TEXT,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_result TEXT,
  last_report_at TEXT,
  last_release_channel TEXT,
  last_release_number INTEGER
);
CREATE INDEX hosts_resource_group ON hosts (resource_group);
CREATE INDEX hosts_channel ON hosts (channel);
CREATE TABLE channels (
  name TEXT PRIMARY KEY,
  canary_share INTEGER NOT NULL,
  description TEXT,
  created_at TEXT NOT NULL,
  current INTEGER,
  previous INTEGER,
  rolled_back INTEGER NOT NULL DEFAULT 0,
  rollout TEXT,
  last_release INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE releases (
  channel TEXT NOT NULL,
  number INTEGER NOT NULL,
  version TEXT NOT NULL,
  defaults TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (channel, number)
);
CREATE TABLE reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host TEXT NOT NULL,
  result TEXT NOT NULL,
  received_at TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX reports_host_id ON reports (host, id);
`,
  },
  {
    // The fleet's exposure: the vulnscan counts of each host's last report that carried them.
    version: 2,
    sql: `
ALTER TABLE hosts ADD COLUMN last_vulnerabilities INTEGER;
ALTER TABLE hosts ADD COLUMN last_whitelisted INTEGER;
`,
  },
  {
    // The migration assessment's fleet view: the latest inventory of each legacy host (not a
    // directory host: it is not managed yet). The document itself is kept as sent (TEXT, never
    // queried into); summary and blockers beside it, so the fleet report need not read MBs per host.
    version: 3,
    sql: `
CREATE TABLE migrate_inventories (
  host TEXT PRIMARY KEY,
  received_at TEXT NOT NULL,
  summary TEXT NOT NULL,
  blockers TEXT NOT NULL,
  inventory TEXT NOT NULL
);
`,
  },
  {
    // The release a host runs (its last report that applied one), beside that of its last report,
    // which may be a release it failed; and each report's size, for the per-host caps, in an
    // index that answers retention without reading the bodies (TEXT of up to 256 KiB each).
    version: 4,
    sql: `
ALTER TABLE hosts ADD COLUMN running_release_channel TEXT;
ALTER TABLE hosts ADD COLUMN running_release_number INTEGER;
UPDATE hosts SET running_release_channel = last_release_channel, running_release_number = last_release_number
  WHERE last_result IN ('switched', 'unchanged', 'deferred');
ALTER TABLE reports ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE reports SET bytes = length(CAST(body AS BLOB));
CREATE INDEX reports_host_retention ON reports (host, id, result, received_at, bytes);
DROP INDEX reports_host_id;
`,
  },
  {
    // The dashboard (src/web): read-only viewer tokens; each failure's error signature, to group
    // failures across the fleet; each host's CVE findings; every inventory's summary as it came
    // in (the migration's progress over time).
    version: 5,
    sql: `
CREATE TABLE viewer_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
ALTER TABLE reports ADD COLUMN error_signature TEXT;
CREATE INDEX reports_error_signature ON reports (error_signature, host) WHERE error_signature IS NOT NULL;
CREATE TABLE host_vulnerabilities (
  host TEXT NOT NULL,
  cve TEXT NOT NULL,
  score REAL,
  package TEXT NOT NULL,
  PRIMARY KEY (host, cve, package)
);
CREATE INDEX host_vulnerabilities_cve ON host_vulnerabilities (cve);
CREATE TABLE migrate_inventory_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host TEXT NOT NULL,
  received_at TEXT NOT NULL,
  summary TEXT NOT NULL
);
`,
  },
];
