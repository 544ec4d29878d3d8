import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { LOCALE_PARAMETERS, localeMissing, OWNED } from "../components/postgresql.js";
import { hasLocale } from "../components/support/locales.js";
import { at, type Conversion, type LeftOut } from "./conversion.js";
import { pgLookup } from "./pg-catalogue.js";
import { parsePgLine } from "./postgresql-config.js";
import type { Blocker, PostgresqlFact, SettingFact } from "./types.js";
import { normalizePg } from "./units.js";

/** Later wins, as PostgreSQL applies its files: the last occurrence of each name. */
export function effectivePg(settings: SettingFact[]): Map<string, SettingFact> {
  const m = new Map<string, SettingFact>();
  for (const s of settings) {
    m.delete(s.name); // keep the order of the last occurrence
    m.set(s.name, s);
  }
  return m;
}

/**
 * What the platform's postgresql.conf sets beyond locations (components/postgresql.ts), and
 * what PostgreSQL itself uses when the legacy file says nothing: compared always, migrated
 * whenever the two differ, so a snippet restores what the legacy host did.
 */
export const PG_PLATFORM: Record<string, { platform: string; builtin: string }> = {
  listen_addresses: { platform: "127.0.0.1", builtin: "localhost" },
};

const pgQuote = (v: string) => `'${v.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

/**
 * Why the new host cannot run the legacy server's major as it is, if it cannot: the platform
 * runs the majors Debian has installed here (/usr/lib/postgresql/<major>), and a cluster opens
 * only under its own major, so another one means upgrading the data, a step a person takes.
 */
function otherMajor(major: string, root = "/usr/lib/postgresql"): string | undefined {
  if (process.env.CONGRUENT_POSTGRES || existsSync(path.join(root, major, "bin", "postgres"))) return undefined;
  const installed = (existsSync(root) ? readdirSync(root) : []).filter((m) => existsSync(path.join(root, m, "bin", "postgres"))).sort((a, b) => Number(a) - Number(b));
  const runs = installed.length ? `the platform runs PostgreSQL ${installed.join(", ")}` : "the platform has no PostgreSQL server installed (Debian package postgresql)";
  return `the legacy server is PostgreSQL ${major}; ${runs}, and a cluster opens only under its own major: upgrade the data as part of the move (pg_upgrade, or pg_dump and restore), or install PostgreSQL ${major} on the platform`;
}

/**
 * Turn the legacy server's explicit settings into the postgresql<major> role and one
 * `migrated.conf` snippet (`name = 'value'`, one a line, the legacy file and line in a
 * comment). Settings the platform owns are left out; so are values equal to PostgreSQL's
 * own default where its catalogue says so reliably.
 */
export function convertPostgresql(fact: PostgresqlFact): Conversion {
  const lookup = pgLookup(fact.major, preloadOf(fact.settings));
  const leftOut: LeftOut[] = [];
  // Judged as on the new host: a locale it lacks stops the server (class 7), so a person decides.
  const missingLocales = new Map<string, SettingFact[]>();
  const lines: string[] = [];
  const legacy = new Map<string, string>();
  const effective = effectivePg(fact.settings);
  for (const [name, p] of Object.entries(PG_PLATFORM)) {
    if (!effective.has(name)) effective.set(name, { name, value: p.builtin, path: "PostgreSQL's default", line: 0 });
  }
  for (const [name, s] of effective) {
    const leave = (reason: string) => leftOut.push({ component: "postgresql", key: name, value: s.value, from: at(s), reason });
    const param = lookup?.(name);
    const platform = PG_PLATFORM[name];
    if (platform) {
      legacy.set(`postgresql ${name}`, normalizePg(s.value, param?.type));
      if (s.value !== platform.platform) lines.push(`${name} = ${pgQuote(s.value)}    # ${s.line ? at(s) : `${s.path} (the platform sets ${platform.platform})`}`);
    } else if (name in OWNED) leave(`owned by the platform: ${OWNED[name]}`);
    else if (lookup && !param) leave(`not a parameter of PostgreSQL ${fact.major} (the server does not accept it)`);
    else if (param?.default !== undefined && normalizePg(s.value, param.type) === normalizePg(param.default, param.type)) leave("equals PostgreSQL's default");
    else {
      if (LOCALE_PARAMETERS.includes(name) && !hasLocale(s.value)) missingLocales.set(s.value, [...(missingLocales.get(s.value) ?? []), s]);
      lines.push(`${name} = ${pgQuote(s.value)}    # ${at(s)}`);
      legacy.set(`postgresql ${name}`, normalizePg(s.value, param?.type));
    }
  }
  const blockers: Blocker[] = [...missingLocales].map(([locale, uses]) => ({
    kind: "platform-lacks",
    subject: `locale ${locale}`,
    detail: localeMissing(uses.map((u) => `${u.name} (${at(u)})`).join(", "), locale),
    path: uses[0]!.path,
  }));
  const other = otherMajor(fact.major);
  if (other) blockers.push({ kind: "platform-lacks", subject: `PostgreSQL ${fact.major}`, detail: other, ...(fact.configFile ? { path: fact.configFile } : {}) });
  const text = `# Non-default settings of the legacy PostgreSQL ${fact.major} server, migrated by congruent migrate plan.\n# Later lines win, as in postgresql.conf.\n${lines.join("\n")}\n`;
  return {
    component: "postgresql",
    role: `postgresql${fact.major}`,
    settings: {},
    snippets: lines.length ? [{ name: "migrated.conf", text, from: [...new Set(fact.settings.map((s) => s.path))] }] : [],
    leftOut,
    secrets: [],
    legacy,
    blockers,
  };
}

/** The comparable side of the plan's postgresql snippets, read in name order (later wins). */
export function planPg(files: { name: string; text: string }[], major: string): Map<string, string> {
  const entries = files.flatMap((f) => f.text.split("\n").map(parsePgLine).filter((p): p is { name: string; value: string } => p !== undefined && !(p instanceof Error)));
  const lookup = pgLookup(major, preloadOf(entries));
  const out = new Map<string, string>(Object.entries(PG_PLATFORM).map(([k, v]) => [`postgresql ${k}`, v.platform]));
  for (const p of entries) out.set(`postgresql ${p.name}`, normalizePg(p.value, lookup?.(p.name)?.type));
  return out;
}

/** The libraries the last shared_preload_libraries loads, as the server reads the list. */
function preloadOf(settings: { name: string; value: string }[]): string[] {
  return [...settings].reverse().find((s) => s.name === "shared_preload_libraries")?.value.split(",").map((l) => l.trim()).filter(Boolean) ?? [];
}
