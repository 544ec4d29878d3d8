import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

/** One parameter as `postgres --describe-config` describes it. */
export interface PgParameter {
  context: string;
  type: string;
  /** Boot value, only where the catalogue prints it faithfully (booleans, enums, strings). */
  default?: string;
}

export interface PgCatalogue {
  major: string;
  binary: string;
  params: Map<string, PgParameter>;
}

const cache = new Map<string, PgCatalogue | null>();

/**
 * PostgreSQL's own list of parameters, from `postgres --describe-config` (no server needed),
 * for the legacy host's major version when that is installed here (else none: every
 * explicit value then counts as non-default). `$CONGRUENT_POSTGRES` names another binary.
 * Numeric defaults are not kept: PostgreSQL 15 prints 0 for them.
 */
export function pgCatalogue(major: string): PgCatalogue | null {
  const binary = process.env.CONGRUENT_POSTGRES ?? `/usr/lib/postgresql/${major}/bin/postgres`;
  if (cache.has(binary)) return cache.get(binary)!;
  let result: PgCatalogue | null = null;
  if (existsSync(binary)) {
    const r = spawnSync(binary, ["--describe-config"], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    if (r.status === 0) {
      const params = new Map<string, PgParameter>();
      for (const line of r.stdout.split("\n")) {
        const f = line.split("\t");
        if (f.length < 5) continue;
        const p: PgParameter = { context: f[1]!, type: f[3]! };
        if (p.type === "BOOLEAN") p.default = f[4] === "TRUE" ? "on" : "off";
        else if (p.type === "ENUM" || p.type === "STRING") p.default = f[4]!;
        params.set(f[0]!.toLowerCase(), p); // DateStyle, TimeZone: names are case-insensitive
      }
      result = { major: process.env.CONGRUENT_POSTGRES ? "" : major, binary, params };
    }
  }
  cache.set(binary, result);
  return result;
}

/** Majors installed here, for messages. */
export function installedPgMajors(): string[] {
  try {
    return readdirSync("/usr/lib/postgresql").filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
}
