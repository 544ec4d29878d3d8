import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The migration corpus: real-world nginx configurations (and PostgreSQL and Redis tunings) from
 * public sources, each fixture recording where it comes from and how it was adapted
 * (test/fixtures/migrate-corpus/), and hosts.json, which makes a fleet of legacy hosts of them.
 */
export const CORPUS_DIR = process.env.CONGRUENT_CORPUS_DIR ? path.resolve(process.env.CONGRUENT_CORPUS_DIR) : path.resolve(import.meta.dirname, "../fixtures/migrate-corpus");

export interface NginxEntry {
  name: string;
  sources: string[];
  /** `site`: http-level text for a vhost file; `main`: the host's whole nginx.conf. */
  kind: "site" | "main";
  adapted: string;
  /** The configuration itself. */
  text: string;
  /** Files it includes, by host path (the fixture's `# file: PATH` sections). */
  files: Record<string, string>;
}

/** One legacy host of the fleet: which configuration and tunings it runs, and what else it has. */
export interface FleetHost {
  host: string;
  nginx: string;
  postgresql?: string;
  redis?: string;
  memcached?: boolean;
  /** It runs php-fpm itself (no Congruent role: a named blocker). */
  php?: boolean;
  /** Its application keeps user uploads inside its install tree (a named blocker). */
  uploads?: boolean;
}

/** Parse one corpus fixture: the header comments, the configuration, the `# file:` sections. */
export function parseEntry(name: string, raw: string): NginxEntry {
  const lines = raw.split("\n");
  const header: string[] = [];
  while (lines.length && lines[0]!.startsWith("# ")) header.push(lines.shift()!);
  const field = (key: string) => header.filter((h) => h.startsWith(`# ${key}:`)).map((h) => h.slice(key.length + 3).trim());
  const sections = lines.join("\n").split(/^# file: (\/\S+)\n/m);
  const files: Record<string, string> = {};
  for (let i = 1; i + 1 < sections.length; i += 2) files[sections[i]!] = sections[i + 1]!;
  const kind = field("kind")[0];
  if (kind !== "site" && kind !== "main") throw new Error(`${name}: "# kind: site|main" missing`);
  return { name, sources: field("source"), kind, adapted: field("adapted").join(" "), text: sections[0]!, files };
}

/** Every nginx configuration of the corpus, by name. */
export function nginxCorpus(): Map<string, NginxEntry> {
  const dir = path.join(CORPUS_DIR, "nginx");
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith(".conf"))
      .sort()
      .map((f) => {
        const name = f.replace(/\.conf$/, "");
        return [name, parseEntry(name, readFileSync(path.join(dir, f), "utf8"))] as const;
      }),
  );
}

/** A tuning fixture (postgresql/ or redis/), without its source comments. */
export function tuning(kind: "postgresql" | "redis", name: string): string {
  return readFileSync(path.join(CORPUS_DIR, kind, `${name}.conf`), "utf8");
}

/** A base file of the legacy nginx package (base/): Gentoo's nginx.conf, mime.types, fastcgi_params… */
export function base(name: string): string {
  return readFileSync(path.join(CORPUS_DIR, "base", name), "utf8").replace(/^# source: .*\n/, "");
}

export function fleet(): FleetHost[] {
  return JSON.parse(readFileSync(path.join(CORPUS_DIR, "hosts.json"), "utf8")) as FleetHost[];
}
