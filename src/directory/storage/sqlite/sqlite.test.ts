import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { runStorageConformance } from "../../storage.case.js";
import { openStorage, sqlitePath } from "../index.js";
import { openSqliteStorage } from "./index.js";

runStorageConformance({
  name: "sqlite",
  async create() {
    const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-dir-sqlite-"));
    const file = path.join(dir, "directory.db");
    const storage = openSqliteStorage(file);
    return {
      storage,
      reopen: async () => openSqliteStorage(file),
      size: async () => [file, `${file}-wal`].reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0),
      cleanup: async () => {
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

describe("openStorage", () => {
  it("opens sqlite: URLs and bare paths, creating the directory, in WAL mode", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-dir-sqlite-"));
    try {
      const storage = await openStorage(`sqlite:${dir}/sub/directory.db`);
      expect(storage.schemaVersion).toBe(5);
      await storage.close();
      const raw = new Database(`${dir}/sub/directory.db`, { readonly: true });
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      raw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("creates the database 0600, and narrows an older, wider one (SQLite gives its WAL the same mode)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "congruent-dir-sqlite-"));
    try {
      const fresh = path.join(dir, "fresh.db");
      const s1 = openSqliteStorage(fresh);
      await s1.createResourceGroup({ name: "acme", createdAt: "t" });
      for (const f of [fresh, `${fresh}-wal`, `${fresh}-shm`]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
      await s1.close();
      const old = path.join(dir, "old.db");
      writeFileSync(old, "");
      chmodSync(old, 0o644);
      const s2 = openSqliteStorage(old);
      expect(statSync(old).mode & 0o777).toBe(0o600);
      await s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses other schemes with E_DIRECTORY_DB", async () => {
    await expect(openStorage("mysql://x/y")).rejects.toMatchObject({ code: "E_DIRECTORY_DB" });
    expect(sqlitePath("sqlite:///a/b.db")).toBe("/a/b.db");
    expect(sqlitePath("sqlite:rel.db")).toBe("rel.db");
    expect(sqlitePath("/x.db")).toBe("/x.db");
  });
});
