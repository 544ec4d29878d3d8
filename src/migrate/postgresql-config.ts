import path from "node:path";
import type { LegacyRoot } from "./legacy-root.js";
import type { PackageFact, PostgresqlFact, Problem, ServiceFact, SettingFact } from "./types.js";
import { readConfd } from "./openrc.js";
import { parseConf } from "../components/support/pg-conf.js";

/**
 * One postgresql.conf line, read by the same parser the postgresql component uses for its
 * snippets: undefined for a line that is only whitespace or comment, an Error for a line
 * PostgreSQL would reject.
 */
export function parsePgLine(raw: string): { name: string; value: string } | undefined | Error {
  const { entries, errors } = parseConf(raw);
  if (errors[0]) return new Error(errors[0].message);
  const entry = entries[0];
  return entry ? { name: entry.name, value: entry.value } : undefined;
}

/** Settings of a postgresql.conf and the files it includes, in the order PostgreSQL applies them. */
export function readPgFile(root: LegacyRoot, file: string, problems: Problem[], depth = 0): SettingFact[] {
  const text = root.read(file);
  if (text === undefined) {
    problems.push({ path: file, message: "cannot be read" });
    return [];
  }
  const out: SettingFact[] = [];
  text.split("\n").forEach((raw, i) => {
    const parsed = parsePgLine(raw);
    if (parsed === undefined) return;
    if (parsed instanceof Error) {
      problems.push({ path: file, line: i + 1, message: parsed.message });
      return;
    }
    out.push({ ...parsed, path: file, line: i + 1 });
    if (depth > 10) return;
    const target = (v: string) => (v.startsWith("/") ? v : path.posix.join(path.posix.dirname(file), v));
    if (parsed.name === "include" || (parsed.name === "include_if_exists" && root.exists(target(parsed.value)))) {
      out.push(...readPgFile(root, target(parsed.value), problems, depth + 1));
    } else if (parsed.name === "include_dir") {
      for (const f of root.glob(`${target(parsed.value)}/*.conf`)) out.push(...readPgFile(root, f, problems, depth + 1));
    }
  });
  return out;
}

/**
 * The legacy PostgreSQL server's explicit configuration. Gentoo keeps it in
 * /etc/postgresql-<slot>/ (PGDATA in /etc/conf.d/postgresql-<slot>) with the cluster in
 * DATA_DIR (default /var/lib/postgresql/<slot>/data); ALTER SYSTEM writes
 * postgresql.auto.conf in the data directory, read last (later wins).
 */
export function readPostgresql(root: LegacyRoot, packages: PackageFact[], services: ServiceFact[]): { postgresql: PostgresqlFact | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const slots = packages.filter((p) => p.category === "dev-db" && p.name === "postgresql").map((p) => p.slot);
  if (slots.length === 0) return { postgresql: null, problems };
  const running = services.find((s) => /^postgresql-\d+$/.test(s.name) && slots.includes(s.name.slice("postgresql-".length)));
  const major = running ? running.name.slice("postgresql-".length) : slots.sort((a, b) => Number(b) - Number(a))[0]!;
  const confd = readConfd(root, `postgresql-${major}`);
  if (confd) problems.push(...confd.problems);
  const pgdata = (confd?.vars.PGDATA ?? `/etc/postgresql-${major}/`).replace(/\/+$/, "");
  const dataDir = (confd?.vars.DATA_DIR ?? `/var/lib/postgresql/${major}/data`).replace(/\/+$/, "");
  const candidates = [`${pgdata}/postgresql.conf`, `${dataDir}/postgresql.conf`];
  const configFile = candidates.find((f) => root.exists(f)) ?? null;
  const settings = configFile ? readPgFile(root, configFile, problems) : [];
  if (!configFile) problems.push({ path: candidates[0]!, message: `PostgreSQL ${major} is installed but has no postgresql.conf here or in ${dataDir}` });
  const auto = `${dataDir}/postgresql.auto.conf`;
  if (root.exists(auto)) settings.push(...readPgFile(root, auto, problems));
  return { postgresql: { major, configFile, dataDir: root.isDir(dataDir) ? dataDir : null, settings }, problems };
}
