import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseJson } from "../../generation/json-source.js";
import { CongruentError } from "../../errors.js";
import type pg from "pg";

/**
 * Application roles a customer asks for in `/etc/local/postgresql/roles.json`:
 *
 *   { "shop": { "databases": ["shop", "shop_staging"], "connection_limit": 20 } }
 *
 * The role logs in with a password kept in `<state>/secrets/postgresql/<role>.password` (0600,
 * made once if absent): never in the store, never in a generation.
 */
export interface AppRole {
  databases: string[];
  connection_limit?: number;
}

export const ROLES_FILE = "roles.json";
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const RESERVED = new Set(["postgres", "public", "template0", "template1"]);
// The marker that says a role is ours to disable when it leaves roles.json (never dropped).
const MANAGED = "managed by congruent (roles.json)";

/** Parse and check roles.json; errors name the file and line. */
export function parseRoles(file: string, text: string): Record<string, AppRole> {
  const doc = parseJson(file, text, "E_LOCAL_INVALID");
  const fail = (message: string, key?: string, after?: string): never => {
    const line = key === undefined ? undefined : doc.lineOf(key, after);
    throw new CongruentError("E_LOCAL_INVALID", `${file}${line ? `:${line}` : ""}: ${message}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(doc.value)) return fail('expected an object of roles, e.g. {"shop": {"databases": ["shop"]}}');
  const out: Record<string, AppRole> = {};
  for (const [name, spec] of Object.entries(doc.value)) {
    if (!IDENT.test(name) || name.startsWith("pg_") || RESERVED.has(name)) fail(`"${name}" is not a usable role name (lower-case letters, digits, _; not postgres or pg_*)`, name);
    if (!isObject(spec)) fail(`role "${name}": expected an object`, name);
    const s = spec as Record<string, unknown>;
    for (const key of Object.keys(s)) if (key !== "databases" && key !== "connection_limit") fail(`role "${name}": unknown field "${key}" (known: databases, connection_limit)`, key, name);
    const dbs = s.databases ?? [];
    if (!Array.isArray(dbs) || dbs.some((d) => typeof d !== "string" || !IDENT.test(d) || RESERVED.has(d))) fail(`role "${name}": databases must be a list of database names (lower-case letters, digits, _)`, "databases", name);
    const limit = s.connection_limit;
    if (limit !== undefined && (!Number.isInteger(limit) || (limit as number) < -1)) fail(`role "${name}": connection_limit must be an integer ≥ -1`, "connection_limit", name);
    out[name] = { databases: [...(dbs as string[])].sort(), ...(limit !== undefined ? { connection_limit: limit as number } : {}) };
  }
  return out;
}

/** The role's password file, made once (random, 0600) when absent. */
export function rolePassword(secretsDir: string, role: string): string {
  const dir = path.join(secretsDir, "postgresql");
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${role}.password`);
  try {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) chmodSync(file, 0o600); // a secret readable by others is repaired, not used as is
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const password = randomBytes(24).toString("base64url");
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: "wx" });
  return password;
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores (RFC 5802/7677): sending it instead of the
 * password keeps the password out of the server's statement log.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/**
 * Make the server's roles and databases what roles.json says: create missing roles and
 * databases, set each role's password from its secret, disable (NOLOGIN) a managed role that
 * left the file. Databases are customer data: never dropped.
 */
export async function ensureRoles(client: pg.Client, roles: Record<string, AppRole>, secretsDir: string): Promise<void> {
  for (const [name, role] of Object.entries(roles)) {
    const exists = (await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name])).rowCount;
    if (!exists) await client.query(`CREATE ROLE "${name}"`);
    const verifier = scramVerifier(rolePassword(secretsDir, name));
    await client.query(`ALTER ROLE "${name}" LOGIN CONNECTION LIMIT ${role.connection_limit ?? -1} PASSWORD '${verifier}'`);
    await client.query(`COMMENT ON ROLE "${name}" IS '${MANAGED}'`);
    for (const db of role.databases) {
      const has = (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [db])).rowCount;
      if (!has) await client.query(`CREATE DATABASE "${db}" OWNER "${name}"`);
    }
  }
  const managed = await client.query("SELECT r.rolname FROM pg_roles r JOIN pg_shdescription d ON d.objoid = r.oid WHERE d.description = $1 AND r.rolcanlogin", [MANAGED]);
  for (const row of managed.rows as { rolname: string }[]) {
    if (!(row.rolname in roles)) await client.query(`ALTER ROLE "${row.rolname}" NOLOGIN`);
  }
}
