import type pg from "pg";
import type { ClientConfig } from "pg";

/**
 * One query on a fresh connection over the server's Unix socket, as the postgres superuser
 * (peer authentication maps root to it). A fresh session on purpose: it sees the configuration
 * the postmaster has now, not what an older session loaded.
 *
 * @example await query({ host: "/var/lib/congruent/run/postgresql", port: 5432 }, "SELECT 1 AS ok", 3000)
 */
export async function query(at: { host: string; port: number }, sql: string, timeoutMs: number): Promise<Record<string, unknown>[]> {
  return withClient(at, timeoutMs, async (client) => (await client.query(sql)).rows as Record<string, unknown>[]);
}

/** Several statements on one fresh superuser session over the Unix socket. */
export async function withClient<T>(at: { host: string; port: number }, timeoutMs: number, use: (client: pg.Client) => Promise<T>): Promise<T> {
  // Loaded on first use: a build never talks to the server, and pg costs ~40 ms to load.
  const { default: pgModule } = await import("pg");
  const config: ClientConfig = { host: at.host, port: at.port, user: "postgres", database: "postgres", connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs };
  const client = new pgModule.Client(config);
  // A server going away mid-query emits 'error' on the client; the query's rejection reports it.
  client.on("error", () => {});
  try {
    await client.connect();
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}
