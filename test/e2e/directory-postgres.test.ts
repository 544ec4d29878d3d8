import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { describeUnless } from "../support/skip.js";
import { runStorageConformance } from "../../src/directory/storage.case.js";
import { openPostgresStorage } from "../../src/directory/storage/postgres/index.js";
import { noPostgres, startPostgres, type TempPostgres } from "../support/postgres.js";

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
      const sql = async (text: string) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          return (await client.query(text)).rows;
        } finally {
          await client.end();
        }
      };
      return {
        storage,
        reopen: () => openPostgresStorage(url, 2),
        cleanup: () => storage.close(),
        size: async () => Number((await sql("SELECT pg_database_size(current_database()) AS n"))[0].n),
        settle: async () => void (await sql("VACUUM reports")),
      };
    },
  });
});
