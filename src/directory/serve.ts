import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { sha256 } from "./http.js";
import { buildDirectory } from "./server.js";
import { defaultDbUrl, openStorage, sqlitePath } from "./storage/index.js";

export interface ServeOptions {
  db?: string;
  /** HOST:PORT, [V6]:PORT or PORT (default 127.0.0.1:8470). */
  listen?: string;
  adminTokenFile?: string;
  logLevel?: string;
  /** Resolves when the directory listens (tests); gets the bound address. */
  onListening?: (address: string) => void;
}

/** `127.0.0.1:8470`, `[::1]:8470`, `:8470`, `8470` → host and port. */
export function parseListen(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr) ?? /^()()(\d+)$/.exec(addr);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new CongruentError("E_USAGE", `--listen ${addr}: expected HOST:PORT, e.g. 127.0.0.1:8470`);
  return { host: m[1] || m[2] || "127.0.0.1", port };
}

/**
 * The admin token: from the file, else $CONGRUENT_ADMIN_TOKEN, else the one generated
 * beside the SQLite database (admin.token, 0600) — created at the first start, reused after.
 */
export function adminToken(db: string, file: string | undefined, log: (msg: string) => void): string {
  if (file) return readFileSync(file, "utf8").trim();
  if (process.env.CONGRUENT_ADMIN_TOKEN) return process.env.CONGRUENT_ADMIN_TOKEN.trim();
  const sqlite = sqlitePath(db);
  if (sqlite === null || sqlite === ":memory:") throw new CongruentError("E_USAGE", "no admin token: pass --admin-token-file FILE or set CONGRUENT_ADMIN_TOKEN");
  const generated = path.join(path.dirname(path.resolve(sqlite)), "admin.token");
  if (existsSync(generated)) {
    log(`admin token read from ${generated}`);
    return readFileSync(generated, "utf8").trim();
  }
  mkdirSync(path.dirname(generated), { recursive: true });
  writeFileSync(generated, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  log(`admin token generated and written to ${generated} (mode 0600)`);
  return readFileSync(generated, "utf8").trim();
}

/**
 * `congruent directory serve`: open storage (migrations run), listen, and close cleanly on
 * SIGTERM/SIGINT (in-flight requests finish, new ones get 503, then the database closes).
 *
 * @example await serveDirectory({ db: "sqlite:/tmp/d.db", listen: "127.0.0.1:0" });
 */
export async function serveDirectory(opts: ServeOptions): Promise<void> {
  const db = opts.db ?? defaultDbUrl;
  const { host, port } = parseListen(opts.listen ?? "127.0.0.1:8470");
  // The token comes first (it may be generated); its messages are logged once the logger exists.
  const notes: string[] = [];
  const token = adminToken(db, opts.adminTokenFile, (msg) => notes.push(msg));
  const storage = await openStorage(db);
  const server = buildDirectory({
    storage,
    adminTokenHash: sha256(token),
    logger: { level: opts.logLevel ?? "info" },
    // Several directories may share one PostgreSQL database; each caches rendered configs.
    configCacheTtlMs: sqlitePath(db) === null ? 5_000 : undefined,
  });
  for (const note of notes) server.log.info(note);
  const address = await server.listen({ host, port });
  server.log.info(`directory listening on ${address} (database ${db.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@")}, schema version ${storage.schemaVersion})`);
  opts.onListening?.(address);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      server.log.info(`${signal}: closing`);
      server
        .close()
        .then(() => storage.close())
        .then(resolve, (error) => {
          server.log.error({ err: error }, "closing failed");
          resolve();
        });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
