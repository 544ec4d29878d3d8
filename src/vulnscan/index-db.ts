import fs from "node:fs";
import Database from "better-sqlite3";
import { CongruentError } from "../errors.js";

export type IndexDb = Database.Database;

import { rangeKeys } from "./match.js";
import { indexFile } from "./paths.js";

export { cacheDir, indexFile } from "./paths.js";

/**
 * Schema migrations, applied in order; `PRAGMA user_version` is the number applied.
 * Never edit a released step: add one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: CVEs, their CPE matches (one row per cpeMatch, with the configuration/node it sits in,
  // so AND/OR can be evaluated from the rows), and the sources imported.
  `CREATE TABLE cves (
     rowid INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     published TEXT,
     last_modified TEXT NOT NULL,
     vuln_status TEXT,
     description TEXT,
     cvss_v31 REAL, cvss_v30 REAL, cvss_v2 REAL,
     vector TEXT,
     -- 1 when some configuration needs the AND/negation evaluation; 0: any vulnerable match suffices
     complex INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE cpe_matches (
     cve INTEGER NOT NULL,
     cfg INTEGER NOT NULL, cfg_and INTEGER NOT NULL,
     node INTEGER NOT NULL, node_and INTEGER NOT NULL, node_negate INTEGER NOT NULL,
     vulnerable INTEGER NOT NULL,
     part TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL,
     version TEXT NOT NULL, upd TEXT NOT NULL,
     start_incl TEXT, start_excl TEXT, end_incl TEXT, end_excl TEXT
   );
   CREATE INDEX cpe_matches_cve ON cpe_matches(cve);
   CREATE TABLE sources (
     source TEXT PRIMARY KEY,
     etag TEXT,
     imported_at TEXT NOT NULL,
     cves INTEGER NOT NULL
   );`,
  // 2: product lookups only ever ask for vulnerable application entries: a partial index
  // keeps it a fraction of the table's size.
  `CREATE INDEX cpe_matches_app_product ON cpe_matches(product, vendor) WHERE part = 'a' AND vulnerable = 1;`,
  // 3: the same index made covering: a scan reads a product's rows from the index alone
  // instead of one table page per row (halves the lookup time of a 10 000-path scan).
  `DROP INDEX cpe_matches_app_product;
   CREATE INDEX cpe_matches_app_product ON cpe_matches(product, vendor, cve, version, upd, start_incl, start_excl, end_incl, end_excl)
     WHERE part = 'a' AND vulnerable = 1;`,
  // 4: each vulnerable application entry's versions as a key range [lo, hi) filed under its
  // common `prefix` of `depth` components (match.ts's rangeKeys: version keys sort in Nix's
  // order), so that SQL finds the entries covering a version and only those reach JavaScript;
  // and each product's vendors with their CVE counts (the product→vendor table's input, as a
  // JSON object) and the prefix depths its entries use (",0,3,", a lookup asks only those),
  // kept up to date by every import. The hook below fills them for an index made before.
  `ALTER TABLE cpe_matches ADD COLUMN lo TEXT;
   ALTER TABLE cpe_matches ADD COLUMN hi TEXT;
   ALTER TABLE cpe_matches ADD COLUMN prefix TEXT;
   ALTER TABLE cpe_matches ADD COLUMN depth INTEGER;
   DROP INDEX cpe_matches_app_product;
   CREATE TABLE products (product TEXT PRIMARY KEY, vendors TEXT NOT NULL, depths TEXT NOT NULL) WITHOUT ROWID;`,
  // 5: the range index holds each range's bounds without their common prefix (lo_tail, hi_tail:
  // what follows \`prefix\` in lo and hi), the prefix being in the key already: a third smaller
  // (85 → 55–62 MB for 250 000 CVEs), so a scan's thousands of lookups read fewer pages.
  `ALTER TABLE cpe_matches ADD COLUMN lo_tail TEXT;
   ALTER TABLE cpe_matches ADD COLUMN hi_tail TEXT;
   UPDATE cpe_matches SET lo_tail = substr(lo, length(prefix) + 1), hi_tail = substr(hi, length(prefix) + 1) WHERE part = 'a' AND vulnerable = 1;
   DROP INDEX cpe_matches_app_product;
   CREATE INDEX cpe_matches_app_product ON cpe_matches(product, prefix, hi_tail, lo_tail, vendor, cve, version) WHERE part = 'a' AND vulnerable = 1;`,
];

/** What a migration step computes in JavaScript, after its SQL, in its transaction. */
const MIGRATION_HOOKS: Record<number, (db: IndexDb) => void> = {
  4: (db) => {
    db.function("congruent_range", { deterministic: true }, (version, upd, si, se, ei, ee, side) => {
      const keys = rangeKeys({ version: version as string, upd: upd as string, start_incl: si as string | null, start_excl: se as string | null, end_incl: ei as string | null, end_excl: ee as string | null });
      return [keys.lo, keys.hi, keys.prefix, keys.depth][side as number];
    });
    const args = "version, upd, start_incl, start_excl, end_incl, end_excl";
    db.exec(
      `UPDATE cpe_matches SET lo = congruent_range(${args}, 0), hi = congruent_range(${args}, 1), prefix = congruent_range(${args}, 2), depth = congruent_range(${args}, 3) WHERE part = 'a' AND vulnerable = 1`,
    );
    db.exec(APP_RANGE_INDEX);
    refreshProducts(db);
  },
};

/**
 * Step 4's index. The entries covering a version are found by `product = ? AND prefix = ? AND
 * hi > key AND lo <= key` for each of the key's prefixes: this index answers it alone
 * (covering), and still answers a product's plain lookups. (Step 5 replaces it.)
 */
const APP_RANGE_INDEX = `CREATE INDEX cpe_matches_app_product ON cpe_matches(product, prefix, hi, lo, vendor, cve, version) WHERE part = 'a' AND vulnerable = 1`;

/**
 * Recount the `products` rows of `products` (every product when undefined): distinct CVEs per
 * vendor among the vulnerable application entries, and the prefix depths they are filed at.
 */
export function refreshProducts(db: IndexDb, products?: Iterable<string>): void {
  const app = (t: string) => `${t}.part = 'a' AND ${t}.vulnerable = 1`;
  const depths = `',' || (SELECT group_concat(DISTINCT d.depth) FROM cpe_matches AS d WHERE d.product = v.product AND ${app("d")}) || ','`;
  const rows = (where: string) =>
    `INSERT INTO products SELECT v.product, json_group_object(v.vendor, v.cves), ${depths}
     FROM (SELECT m.product, m.vendor, count(DISTINCT m.cve) AS cves FROM cpe_matches AS m WHERE ${app("m")} ${where} GROUP BY m.product, m.vendor) AS v
     GROUP BY v.product`;
  if (products === undefined) {
    db.exec(`DELETE FROM products; ${rows("")}`);
    return;
  }
  const drop = db.prepare("DELETE FROM products WHERE product = ?");
  const add = db.prepare(rows("AND m.product = ?"));
  for (const p of products) {
    drop.run(p);
    add.run(p);
  }
}

/** Apply every migration the database has not seen, each in its own transaction. */
export function migrate(db: IndexDb, file: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new CongruentError("E_VULNSCAN_INDEX", `${file}: index schema version ${current} is newer than this congruent knows (${MIGRATIONS.length}); update congruent or remove the file`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      MIGRATION_HOOKS[v + 1]?.(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * Open (and create or migrate) the index in `dir`. With `mustExist`, a missing index is an
 * error that says how to make one.
 *
 * @example const db = openIndex(cacheDir()); db.prepare("SELECT count(*) FROM cves").pluck().get()
 */
export function openIndex(dir: string, opts: { mustExist?: boolean } = {}): IndexDb {
  const file = indexFile(dir);
  if (opts.mustExist && !fs.existsSync(file)) {
    throw new CongruentError("E_VULNSCAN_INDEX", `no vulnerability index at ${file}: run 'congruent vulnscan update --from <NVD feed files or URL>' first`);
  }
  let db: IndexDb;
  try {
    fs.mkdirSync(dir, { recursive: true });
    db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
  } catch (e) {
    throw new CongruentError("E_VULNSCAN_INDEX", `cannot open vulnerability index ${file}: ${(e as Error).message}`);
  }
  try {
    migrate(db, file);
  } catch (e) {
    db.close();
    if (e instanceof CongruentError) throw e;
    throw new CongruentError("E_VULNSCAN_INDEX", `${file}: not a vulnerability index (${(e as Error).message})`);
  }
  return db;
}

/** Counts for `vulnscan update` output and tests. */
export function indexStats(db: IndexDb): { cves: number; cpeMatches: number } {
  return {
    cves: db.prepare("SELECT count(*) FROM cves").pluck().get() as number,
    cpeMatches: db.prepare("SELECT count(*) FROM cpe_matches").pluck().get() as number,
  };
}
