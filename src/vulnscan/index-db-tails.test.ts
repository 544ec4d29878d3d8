import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { indexFile, MIGRATIONS, openIndex } from "./index-db.js";
import { Matcher, type Package } from "./match.js";
import { importNvd } from "./nvd-import.js";

const SAMPLE = path.resolve(import.meta.dirname, "../../test/fixtures/nvd-sample/nvdcve-2.0-sample.json");
const FIXTURE = path.resolve(import.meta.dirname, "../../test/fixtures/nvd/advisories.json");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vulnscan-tails-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tails = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT cve, cfg, node, vendor, product, lo_tail, hi_tail FROM cpe_matches ORDER BY cve, cfg, node, vendor, product, lo, hi").all();
  } finally {
    db.close();
  }
};

describe("index step 5: range bounds after their prefix", () => {
  it("migrates an index of step 4 to the tails an import writes, with the same findings", async () => {
    const fresh = path.join(tmp, "fresh");
    await importNvd([SAMPLE, FIXTURE], { cacheDir: fresh });

    // The same index as step 4 left it: step 5 undone (no tails, step 4's index).
    const old = path.join(tmp, "old");
    fs.mkdirSync(old);
    fs.copyFileSync(indexFile(fresh), indexFile(old));
    const raw = new Database(indexFile(old));
    raw.exec(`DROP INDEX cpe_matches_app_product;
      ALTER TABLE cpe_matches DROP COLUMN lo_tail;
      ALTER TABLE cpe_matches DROP COLUMN hi_tail;
      CREATE INDEX cpe_matches_app_product ON cpe_matches(product, prefix, hi, lo, vendor, cve, version) WHERE part = 'a' AND vulnerable = 1`);
    raw.pragma("user_version = 4");
    raw.close();

    const migrated = openIndex(old);
    const current = openIndex(fresh);
    try {
      expect(migrated.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
      const rows = tails(indexFile(fresh));
      expect(rows.filter((r) => (r as { hi_tail: string | null }).hi_tail !== null).length).toBeGreaterThan(500);
      expect(tails(indexFile(old))).toEqual(rows);
      const packages: Package[] = ["openssl-1.0.1f", "openssl-3.0.6", "xz-5.6.0", "redis-6.2.6", "nginx-1.20.0", "git-2.30.0"].map((name) => {
        const [, pname, version] = /^(.*?)-(\d.*)$/.exec(name) as RegExpExecArray;
        return { name, pname: pname as string, version: version as string, path: `/nix/store/${"0".repeat(32)}-${name}`, patched: [] };
      });
      const found = new Matcher(current).matchAll(packages);
      expect(found.flat().length).toBeGreaterThan(5);
      expect(new Matcher(migrated).matchAll(packages)).toEqual(found);
    } finally {
      migrated.close();
      current.close();
    }
  });
});
