import { spawnSync } from "node:child_process";
import { CongruentError } from "../../errors.js";
import type { ChangeClass } from "../component.js";
import { derivedFromFile } from "../../generation/derived-cache.js";

/** One parameter as the server itself describes it (`postgres --describe-config`). */
export interface PgParameter {
  /** Canonical spelling, e.g. `DateStyle`. */
  name: string;
  /** internal, postmaster, sighup, superuser-backend, backend, superuser, user. */
  context: string;
  type: "BOOLEAN" | "INTEGER" | "REAL" | "STRING" | "ENUM";
  min?: number;
  max?: number;
  /**
   * The boot value, only for ENUM and STRING parameters: `--describe-config` prints those
   * faithfully, but FALSE for every boolean (autovacuum's default is on) and 0 for numbers.
   */
  default?: string;
}

export type Catalogue = ReadonlyMap<string, PgParameter>;

const cache = new Map<string, Catalogue>();

/**
 * Every parameter the installed server knows, keyed by lower-cased name. The server prints
 * it without a data directory; memoised per binary (a build reads it once).
 */
export function catalogue(postgres: string): Catalogue {
  const hit = cache.get(postgres);
  if (hit) return hit;
  const rows = derivedFromFile("pg-catalogue-v2", postgres, () => describe(postgres));
  const out = new Map(rows.map((p) => [p.name.toLowerCase(), p]));
  cache.set(postgres, out);
  return out;
}

function describe(postgres: string): PgParameter[] {
  const run = spawnSync(postgres, ["--describe-config"], { encoding: "utf8", maxBuffer: 16 << 20 });
  if (run.status !== 0) throw new CongruentError("E_PROGRAM_MISSING", `${postgres} --describe-config failed: ${(run.stderr || run.error?.message || "").trim()}`);
  const out: PgParameter[] = [];
  for (const row of run.stdout.split("\n")) {
    // name, context, group, type, default, min, max, short description, long description
    const [name, context, , type, boot, min, max] = row.split("\t");
    if (!name || !context || !type) continue;
    const p: PgParameter = { name, context, type: type as PgParameter["type"] };
    if ((type === "ENUM" || type === "STRING") && boot !== undefined) p.default = boot;
    if (min) p.min = Number(min);
    if (max) p.max = Number(max);
    out.push(p);
  }
  return out;
}

/**
 * What a change of the parameter needs, from its context: `postmaster` settings are read only
 * at server start; every other settable context is re-read on SIGHUP (`pg_reload_conf()`),
 * `backend` ones by new sessions. `internal` ones cannot be set at all (undefined).
 */
export function changeClass(p: PgParameter): ChangeClass | undefined {
  if (p.context === "internal") return undefined;
  return p.context === "postmaster" ? "restart" : "reload";
}
