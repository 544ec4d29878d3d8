import { afterAll, beforeAll } from "vitest";
import { runStorageConformance } from "../../src/directory/storage.case.js";
import { openPostgresStorage } from "../../src/directory/storage/postgres/index.js";
import { noPostgres, startPostgres, type TempPostgres } from "../support/postgres.js";
import { describeUnless } from "../support/skip.js";

// The same conformance suite as SQLite's, against a real PostgreSQL 15 started for this file.
describeUnless(noPostgres)("directory storage on a real PostgreSQL 15", () => {
  let server: TempPostgres;
  let n = 0;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => server?.stop());

  runStorageConformance({
    name: "postgres",
    async create() {
      const url = await server.createDatabase(`conformance_${++n}`);
      const storage = await openPostgresStorage(url, 4);
      return { storage, reopen: () => openPostgresStorage(url, 2), cleanup: () => storage.close() };
    },
  });
});
