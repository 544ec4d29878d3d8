import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { cacheDir, indexFile, MIGRATIONS, openIndex } from "./index-db.js";

describe("index database", () => {
  it("creates the schema through every migration", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vulnscan-db-"));
    const db = openIndex(dir);
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT cve, version FROM cpe_matches WHERE product = ? AND part = 'a' AND vulnerable = 1").all("x");
    expect(JSON.stringify(plan)).toContain("COVERING INDEX cpe_matches_app_product");
    db.close();
  });

  it("refuses an index of a newer schema, and says how to make a missing one", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vulnscan-db-"));
    expect(() => openIndex(dir, { mustExist: true })).toThrow(/no vulnerability index at .*run 'congruent vulnscan update/);
    const raw = new Database(indexFile(dir));
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openIndex(dir)).toThrow(/is newer than this congruent knows/);
  });

  it("takes the cache dir from the flag, then $CONGRUENT_VULNSCAN_CACHE", () => {
    expect(cacheDir("/x/y")).toBe("/x/y");
    const saved = process.env.CONGRUENT_VULNSCAN_CACHE;
    process.env.CONGRUENT_VULNSCAN_CACHE = "/srv/vulnscan";
    try {
      expect(cacheDir()).toBe("/srv/vulnscan");
    } finally {
      if (saved === undefined) delete process.env.CONGRUENT_VULNSCAN_CACHE;
      else process.env.CONGRUENT_VULNSCAN_CACHE = saved;
    }
  });
});
