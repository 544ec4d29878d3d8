import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CongruentError } from "../../errors.js";
import { asUser, userIds } from "./server-user.js";
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

/**
 * The parameters a server of this binary accepts with `preload` loaded, by lower-cased name:
 * `--describe-config` first (no server needed); only for a name it lacks, the `pg_settings` of a
 * throwaway single-user server (initdb once, cached per binary and library list), which also
 * lists what `--describe-config` leaves out (developer options, application_name, trace_sort…)
 * and the loaded extensions' own (pg_stat_statements.*, auto_explain.*). A dotted name nothing
 * defines is a placeholder, as PostgreSQL takes it (any context, read by current_setting()).
 *
 * @example parameterLookup(postgres, ["pg_stat_statements"])("pg_stat_statements.max")?.context // "postmaster"
 */
export function parameterLookup(postgres: string, preload: readonly string[]): (name: string) => PgParameter | undefined {
  const base = catalogue(postgres);
  let full: Catalogue | undefined;
  return (name) => {
    const hit = base.get(name);
    if (hit) return hit;
    full ??= settingsCatalogue(postgres, preload);
    return full.get(name) ?? (name.includes(".") ? { name, context: "user", type: "STRING" } : undefined);
  };
}

/** pg_settings of a throwaway single-user server with `preload` loaded; cached per binary and list. */
function settingsCatalogue(postgres: string, preload: readonly string[]): Catalogue {
  const libs = [...preload].sort();
  const rows = derivedFromFile(`pg-settings-${libs.join("_").replace(/[^A-Za-z0-9_-]/g, "") || "core"}`, postgres, () => probeSettings(postgres, libs));
  return new Map(rows.map((p) => [p.name.toLowerCase(), p]));
}

const TYPES: Record<string, PgParameter["type"]> = { bool: "BOOLEAN", integer: "INTEGER", real: "REAL", string: "STRING", enum: "ENUM" };

function probeSettings(postgres: string, preload: string[]): PgParameter[] {
  const bin = path.dirname(postgres);
  const scratch = mkdtempSync(path.join(os.tmpdir(), "congruent-pgsettings-"));
  try {
    chmodSync(scratch, 0o755);
    const ids = process.getuid?.() === 0 ? userIds("postgres") : undefined;
    if (ids) chownSync(scratch, ids.uid, ids.gid);
    const data = path.join(scratch, "data");
    const out = path.join(scratch, "settings.tsv");
    const run = (argv: string[], input?: string) => {
      const full = asUser("postgres", argv);
      const r = spawnSync(full[0]!, full.slice(1), { encoding: "utf8", input });
      if (r.status !== 0) throw new CongruentError("E_LOCAL_INVALID", `postgresql: asking ${postgres} for its parameters${preload.length ? ` with shared_preload_libraries = '${preload.join(",")}'` : ""} failed: ${(r.stderr || String(r.error)).trim().split("\n").filter((l) => /FATAL|ERROR|could not/.test(l)).at(-1) ?? r.stderr.trim().split("\n").at(-1)}`);
    };
    run([path.join(bin, "initdb"), "-D", data, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8", "-U", "postgres", "--no-instructions"]);
    const query = `COPY (SELECT name, context, vartype, boot_val, min_val, max_val FROM pg_settings) TO '${out}';\n`;
    run([postgres, "--single", "-D", data, "-c", `shared_preload_libraries=${preload.join(",")}`, "postgres"], query);
    return readFileSync(out, "utf8").split("\n").filter(Boolean).map((row) => {
      const [name, context, vartype, boot, min, max] = row.split("\t");
      const p: PgParameter = { name: name!, context: context!, type: TYPES[vartype!] ?? "STRING" };
      if (boot !== undefined && boot !== "\\N") p.default = boot;
      if (min && min !== "\\N") p.min = Number(min);
      if (max && max !== "\\N") p.max = Number(max);
      return p;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
