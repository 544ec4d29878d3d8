import { existsSync, readdirSync } from "node:fs";
import { catalogue, type Catalogue, type PgParameter } from "../components/support/pg-catalogue.js";

export type { PgParameter };

export interface PgCatalogue {
  major: string;
  binary: string;
  params: Catalogue;
}

/**
 * PostgreSQL's own list of parameters (the component's, from `postgres --describe-config`, no
 * server needed) for the legacy host's major version when that is installed here (else none:
 * every explicit value then counts as non-default). `$CONGRUENT_POSTGRES` names another binary.
 * Only ENUM and STRING parameters carry a default there: a set boolean or number always counts
 * as non-default, so nothing the legacy host changed is ever dropped.
 */
export function pgCatalogue(major: string): PgCatalogue | null {
  const binary = process.env.CONGRUENT_POSTGRES ?? `/usr/lib/postgresql/${major}/bin/postgres`;
  if (!existsSync(binary)) return null;
  try {
    return { major: process.env.CONGRUENT_POSTGRES ? "" : major, binary, params: catalogue(binary) };
  } catch {
    return null;
  }
}

/** Majors installed here, for messages. */
export function installedPgMajors(): string[] {
  try {
    return readdirSync("/usr/lib/postgresql").filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
}
