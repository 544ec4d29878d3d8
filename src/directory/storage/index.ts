import { CongruentError } from "../../errors.js";
import type { Storage } from "../storage.js";

/** Where `congruent directory serve` keeps its state unless told otherwise. */
export const defaultDbUrl = "sqlite:/var/lib/congruent/directory.db";

/**
 * Opens the storage a URL names and runs its pending migrations: `sqlite:PATH` (or a bare
 * path) for better-sqlite3, `postgres://…` / `postgresql://…` for a PostgreSQL server.
 * Each variant is imported only when chosen.
 *
 * @example const storage = await openStorage("postgres://congruent@db1/congruent");
 */
export async function openStorage(url: string = defaultDbUrl): Promise<Storage> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { openPostgresStorage } = await import("./postgres/index.js");
    return openPostgresStorage(url);
  }
  const file = sqlitePath(url);
  if (file === null) throw new CongruentError("E_DIRECTORY_DB", `${url}: unsupported database URL (use sqlite:PATH or postgres://…)`);
  const { openSqliteStorage } = await import("./sqlite/index.js");
  return openSqliteStorage(file);
}

/** The file of a `sqlite:PATH` URL (or a bare path); null for any other scheme. */
export function sqlitePath(url: string): string | null {
  if (url.startsWith("sqlite://")) return url.slice("sqlite://".length);
  if (url.startsWith("sqlite:")) return url.slice("sqlite:".length);
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? null : url;
}
