import { existsSync } from "node:fs";
import { parameterLookup, type PgParameter } from "../components/support/pg-catalogue.js";

export type { PgParameter };

/**
 * What a PostgreSQL server of the legacy host's major version accepts, asked of the one installed
 * here (the component's catalogue: --describe-config, then the server's own pg_settings with the
 * legacy shared_preload_libraries loaded), or null when that major is not installed (every
 * explicit value then counts as non-default). `$CONGRUENT_POSTGRES` names another binary.
 */
export function pgLookup(major: string, preload: readonly string[] = []): ((name: string) => PgParameter | undefined) | null {
  const binary = process.env.CONGRUENT_POSTGRES ?? `/usr/lib/postgresql/${major}/bin/postgres`;
  if (!existsSync(binary)) return null;
  try {
    const lookup = parameterLookup(binary, preload);
    return (name) => {
      try {
        return lookup(name);
      } catch {
        return undefined; // the server could not be asked (a library it cannot load): judged by the build
      }
    };
  } catch {
    return null;
  }
}
