import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:https";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { sha256 } from "./http.js";
import type { ReportRate } from "./rate-limit.js";
import { ADMIN_TOKEN_BITS, HOST_TOKEN_PREFIX, tokenBits } from "./tokens.js";
import { buildDirectory } from "./server.js";
import type { RetentionPolicy } from "./storage.js";
import { defaultDbUrl, openStorage, sqlitePath } from "./storage/index.js";
import { isLoopback, readTls, watchTls, type TlsFiles } from "./tls.js";

export interface ServeOptions {
  db?: string;
  /** HOST:PORT, [V6]:PORT or PORT (default 127.0.0.1:8470). */
  listen?: string;
  adminTokenFile?: string;
  logLevel?: string;
  /** Serve HTTPS; the files are watched and a renewed pair is served without a restart. */
  tls?: TlsFiles;
  /** How often the certificate files are checked for a renewal (default 5 s). */
  tlsPollMs?: number;
  retention?: RetentionPolicy;
  reportRate?: ReportRate;
  /** The dashboard's stale threshold (default 20 min). */
  staleAfterMs?: number;
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

function checkAdminToken(token: string, from: string): string {
  if (tokenBits(token) < ADMIN_TOKEN_BITS) {
    throw new CongruentError("E_DIRECTORY_TOKEN", `${from}: the admin token carries at most ${tokenBits(token)} bits, fewer than ${ADMIN_TOKEN_BITS}; make one with e.g. 'openssl rand -base64 32'`);
  }
  // Host tokens have this prefix, and `manage` refuses any other token: an admin token never passes for a host's.
  if (token.startsWith(HOST_TOKEN_PREFIX)) throw new CongruentError("E_DIRECTORY_TOKEN", `${from}: an admin token must not start with "${HOST_TOKEN_PREFIX}" (host tokens do)`);
  return token;
}

/**
 * The admin token: from the file, else $CONGRUENT_ADMIN_TOKEN, else the one generated
 * beside the SQLite database (admin.token, 0600) — created at the first start, reused after.
 * A token of fewer than 128 bits is refused.
 */
export function adminToken(db: string, file: string | undefined, log: (msg: string) => void): string {
  if (file) return checkAdminToken(readFileSync(file, "utf8").trim(), file);
  if (process.env.CONGRUENT_ADMIN_TOKEN) return checkAdminToken(process.env.CONGRUENT_ADMIN_TOKEN.trim(), "$CONGRUENT_ADMIN_TOKEN");
  const sqlite = sqlitePath(db);
  if (sqlite === null || sqlite === ":memory:") throw new CongruentError("E_USAGE", "no admin token: pass --admin-token-file FILE or set CONGRUENT_ADMIN_TOKEN");
  const generated = path.join(path.dirname(path.resolve(sqlite)), "admin.token");
  if (existsSync(generated)) {
    log(`admin token read from ${generated}`);
    return checkAdminToken(readFileSync(generated, "utf8").trim(), generated);
  }
  mkdirSync(path.dirname(generated), { recursive: true });
  writeFileSync(generated, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  log(`admin token generated and written to ${generated} (mode 0600)`);
  return readFileSync(generated, "utf8").trim();
}

/**
 * `congruent directory serve`: open storage (migrations run), listen (HTTPS with `tls`), and
 * close cleanly on SIGTERM/SIGINT (in-flight requests finish, new ones get 503, then the
 * database closes). SIGHUP reloads the TLS certificate.
 *
 * @example await serveDirectory({ db: "sqlite:/tmp/d.db", listen: "127.0.0.1:0" });
 */
export async function serveDirectory(opts: ServeOptions): Promise<void> {
  const db = opts.db ?? defaultDbUrl;
  const { host, port } = parseListen(opts.listen ?? "127.0.0.1:8470");
  // The token and the certificate come first (either may be refused); their messages are logged once the logger exists.
  const notes: string[] = [];
  const token = adminToken(db, opts.adminTokenFile, (msg) => notes.push(msg));
  const tls = opts.tls ? readTls(opts.tls) : undefined;
  if (tls) notes.push(`TLS certificate: ${tls.summary}`);
  const storage = await openStorage(db);
  const server = buildDirectory({
    storage,
    adminTokenHash: sha256(token),
    logger: { level: opts.logLevel ?? "info" },
    // Several directories may share one PostgreSQL database; each caches rendered configs.
    configCacheTtlMs: sqlitePath(db) === null ? 5_000 : undefined,
    retention: opts.retention,
    reportRate: opts.reportRate,
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    staleAfterMs: opts.staleAfterMs,
  });
  for (const note of notes) server.log.info(note);
  if (!tls && !isLoopback(host)) {
    server.log.warn(`listening on ${host} without TLS: tokens and host descriptions cross the network in the clear; serve with --tls-cert FILE --tls-key FILE`);
  }
  const address = await server.listen({ host, port });
  server.log.info(`directory listening on ${address} (database ${db.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@")}, schema version ${storage.schemaVersion})`);
  const watcher = opts.tls ? watchTls(server.server as unknown as Server, opts.tls, server.log, opts.tlsPollMs) : undefined;
  if (watcher) process.on("SIGHUP", watcher.reload);
  server.log.info(`dashboard at ${address}/ (log in with the admin token or a viewer token)`);
  opts.onListening?.(address);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      server.log.info(`${signal}: closing`);
      if (watcher) {
        watcher.stop();
        process.off("SIGHUP", watcher.reload);
      }
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
