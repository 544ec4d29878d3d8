import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexFile, MIGRATIONS, openIndex, type IndexDb } from "./index-db.js";
import { entryCovers, Matcher, rangeKeys, type Hit, type Package, type Probe, type VersionFields } from "./match.js";
import { importNvd } from "./nvd-import.js";
import { compareVersions, keyPrefixes, versionKey, versionKeyBounds } from "./version.js";

const SAMPLE = path.resolve(import.meta.dirname, "../../test/fixtures/nvd-sample/nvdcve-2.0-sample.json");
const FIXTURE = path.resolve(import.meta.dirname, "../../test/fixtures/nvd/advisories.json");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vulnscan-match-index-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Row = VersionFields & { cve: number; vendor: string; product: string };

/**
 * The matching as it was before the key-range index: every vulnerable application entry of a
 * product read into JavaScript, each compared with entryCovers, and vendors counted from
 * those rows. Everything else (candidates, vendors chosen, AND/OR, ranking) is Matcher's own.
 */
class RowByRowMatcher extends Matcher {
  private readonly byProduct;
  private readonly cached = new Map<string, Row[]>();

  constructor(db: IndexDb) {
    super(db);
    this.byProduct = db.prepare<[string], Row>("SELECT cve, vendor, product, version, upd, start_incl, start_excl, end_incl, end_excl FROM cpe_matches WHERE product = ? AND part = 'a' AND vulnerable = 1");
  }

  private readonly rows = {
    all: (product: string): Row[] => {
      let rows = this.cached.get(product);
      if (!rows) this.cached.set(product, (rows = this.byProduct.all(product)));
      return rows;
    },
  };

  protected override vendorCounts(product: string): Map<string, number> {
    const cves = new Map<string, Set<number>>();
    for (const r of this.rows.all(product)) cves.set(r.vendor, (cves.get(r.vendor) ?? new Set()).add(r.cve));
    return new Map([...cves].map(([v, s]) => [v, s.size]));
  }

  protected override covering(probes: readonly Probe[]): Map<number, Hit[]> {
    const out = new Map<number, Hit[]>();
    probes.forEach((p, i) => {
      for (const r of this.rows.all(p.product)) {
        const c = entryCovers(r, p.version);
        if (c.hit) out.set(i, [...(out.get(i) ?? []), { cve: r.cve, vendor: r.vendor, allVersions: c.allVersions }]);
      }
    });
    return out;
  }
}

/** Every product in the index at every version its entries name, and around them. */
function packagesOf(db: IndexDb): Package[] {
  const rows = db.prepare<[], Row>("SELECT product, version, upd, start_incl, start_excl, end_incl, end_excl FROM cpe_matches WHERE part = 'a' AND vulnerable = 1").all();
  const versions = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = versions.get(r.product) ?? new Set(["0", "1.0", "999"]);
    for (const v of [r.version, r.start_incl, r.start_excl, r.end_incl, r.end_excl]) {
      if (v === null || v === "*" || v === "-") continue;
      for (const near of [v, `${v}.0`, `${v}.1`, `${v}pre1`, `${v}-rc1`, v.replace(/\.\d+$/, "")]) set.add(near);
    }
    versions.set(r.product, set);
  }
  return [...versions].flatMap(([product, set]) =>
    [...set].map((version) => ({ name: `${product}-${version}`, pname: product, version, path: `/nix/store/${"0".repeat(32)}-${product}-${version}`, patched: [] })),
  );
}

describe("key-range matching", () => {
  let db: IndexDb;
  beforeAll(async () => {
    await importNvd([SAMPLE, FIXTURE], { cacheDir: path.join(tmp, "sample") });
    db = openIndex(path.join(tmp, "sample"));
  });
  afterAll(() => db.close());

  it("finds what the row-by-row matching finds, on the NVD sample and the fixtures", () => {
    const packages = packagesOf(db);
    expect(packages.length).toBeGreaterThan(1000);
    const before = new RowByRowMatcher(db).matchAll(packages);
    const after = new Matcher(db).matchAll(packages);
    expect(after).toEqual(before);
    expect(after.filter((a) => a.length > 0).length).toBeGreaterThan(300);
  });

  it("orders version keys as compareVersions orders versions", () => {
    const parts = ["0", "00", "1", "01", "2", "10", "123", "pre", "a", "b", "rc", "p", "beta", "#", "$", "!", "%x", "\u0001", "é", "ü2", "prerc"];
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    const versions = new Set<string>(["", "0", "0.0", "1.0.0", "153.0", "153"]);
    while (versions.size < 600) {
      let v = "";
      for (let k = 0, n = 1 + rnd(5); k < n; k++) v += (k > 0 ? ([".", "-", ""][rnd(3)] as string) : "") + (parts[rnd(parts.length)] as string);
      versions.add(v);
    }
    const list = [...versions];
    for (const a of list) {
      expect(versionKeyBounds(a).ends, a).toEqual(keyPrefixes(versionKey(a)).map((p) => p.length));
      for (const b of list) {
        const keys = versionKey(a) < versionKey(b) ? -1 : versionKey(a) > versionKey(b) ? 1 : 0;
        if (keys !== compareVersions(a, b)) expect([a, b, keys]).toEqual([a, b, compareVersions(a, b)]);
      }
    }
  });

  it("a range of keys covers exactly what entryCovers covers", () => {
    const entries: VersionFields[] = [
      { version: "*", upd: "*", start_incl: "3.0.0", start_excl: null, end_incl: null, end_excl: "3.0.7" },
      { version: "*", upd: "*", start_incl: null, start_excl: "1.2", end_incl: "1.4.0", end_excl: null },
      { version: "1.9.5", upd: "patch1", start_incl: null, start_excl: null, end_incl: null, end_excl: null },
      { version: "2.0", upd: "beta9", start_incl: null, start_excl: null, end_incl: null, end_excl: null },
      { version: "-", upd: "*", start_incl: null, start_excl: null, end_incl: null, end_excl: null },
      { version: "*", upd: "*", start_incl: null, start_excl: null, end_incl: "153.0", end_excl: null },
    ];
    const versions = ["0", "1.2", "1.2.0", "1.2.1", "1.3pre", "1.4", "1.4.0.1", "1.9.5p1", "1.9.5", "2.0-beta9", "2.0beta9", "2.0", "2.9.9", "3.0", "3.0.6", "3.0.7", "153.0.0", "153.0.1"];
    for (const e of entries) {
      const { lo, hi, prefix } = rangeKeys(e);
      for (const v of versions) {
        const k = versionKey(v);
        expect(lo <= k && k < hi, `${JSON.stringify(e)} ${v}`).toBe(entryCovers(e, v).hit);
        if (lo <= k && k < hi) expect(k.startsWith(prefix)).toBe(true);
      }
    }
  });

  it("keeps the index incremental: a later record replaces entries, products and vendors as a fresh import would", async () => {
    const later = JSON.parse(fs.readFileSync(SAMPLE, "utf8")) as { vulnerabilities: { cve: { id: string; lastModified: string; configurations?: unknown[] } }[] };
    const heartbleed = later.vulnerabilities.find((v) => v.cve.id === "CVE-2014-0160")!.cve;
    heartbleed.lastModified = "2030-01-01T00:00:00.000";
    // The record now names another product (the fix moved it), so both products change.
    const text = JSON.stringify(heartbleed).replaceAll(":openssl:openssl:", ":openssl:libssl:");
    const file = path.join(tmp, "later.json");
    fs.writeFileSync(file, JSON.stringify({ ...later, vulnerabilities: [{ cve: JSON.parse(text) }] }));
    const incremental = path.join(tmp, "incremental");
    await importNvd([SAMPLE, FIXTURE], { cacheDir: incremental });
    await importNvd([file], { cacheDir: incremental });
    const fresh = path.join(tmp, "fresh");
    await importNvd([SAMPLE, FIXTURE, file], { cacheDir: fresh });
    const dump = (dir: string) => {
      const d = openIndex(dir);
      try {
        return {
          products: d.prepare("SELECT * FROM products ORDER BY product").all(),
          ranges: d.prepare("SELECT c.id, m.vendor, m.product, m.lo, m.hi, m.prefix, m.depth FROM cpe_matches m JOIN cves c ON c.rowid = m.cve WHERE m.part = 'a' AND m.vulnerable = 1 ORDER BY 1, 2, 3, 4, 5").all(),
        };
      } finally {
        d.close();
      }
    };
    const a = dump(incremental);
    expect(a).toEqual(dump(fresh));
    expect(a.products.some((p) => (p as { product: string }).product === "libssl")).toBe(true);
  });

  it("brings an index of the earlier schema up to date, with the same findings", () => {
    const old = path.join(tmp, "old");
    fs.mkdirSync(old);
    const raw = new Database(indexFile(old));
    for (const step of MIGRATIONS.slice(0, 3)) raw.exec(step);
    raw.pragma("user_version = 3");
    raw.exec(`ATTACH '${indexFile(path.join(tmp, "sample"))}' AS cur`);
    raw.exec("INSERT INTO cves SELECT * FROM cur.cves; INSERT INTO sources SELECT * FROM cur.sources");
    raw.exec("INSERT INTO cpe_matches SELECT cve, cfg, cfg_and, node, node_and, node_negate, vulnerable, part, vendor, product, version, upd, start_incl, start_excl, end_incl, end_excl FROM cur.cpe_matches");
    raw.close();
    const migrated = openIndex(old);
    try {
      expect(migrated.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
      const packages = packagesOf(db).filter((_, i) => i % 4 === 0);
      expect(new Matcher(migrated).matchAll(packages)).toEqual(new Matcher(db).matchAll(packages));
    } finally {
      migrated.close();
    }
  });
});
