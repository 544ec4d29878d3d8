import { mkdtempSync, rmSync } from "node:fs";
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
      expect(storage.schemaVersion).toBe(3);
      await storage.close();
      const raw = new Database(`${dir}/sub/directory.db`, { readonly: true });
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      raw.close();
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
