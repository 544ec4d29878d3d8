import type { LegacyRoot } from "./legacy-root.js";
import type { Problem } from "./types.js";

/**
 * The world file (`/var/lib/portage/world`): the atoms the admin asked for, one a line
 * (`www-servers/nginx`, maybe with a slot `dev-db/postgresql:15`). Returned without slots.
 */
export function readWorld(root: LegacyRoot): { world: string[]; problems: Problem[] } {
  const file = "/var/lib/portage/world";
  const text = root.read(file);
  if (text === undefined) return { world: [], problems: root.exists(file) ? [{ path: file, message: "unreadable" }] : [] };
  const world: string[] = [];
  const problems: Problem[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const atom = line.replace(/:.*$/, "");
    if (/^[A-Za-z0-9+_.-]+\/[A-Za-z0-9+_-]+$/.test(atom)) world.push(atom);
    else problems.push({ path: file, line: i + 1, message: `not a package atom: ${JSON.stringify(line)}` });
  });
  return { world, problems };
}

/**
 * Shell-style `NAME="value"` assignments, as in make.conf and OpenRC's conf.d files. Only
 * literal values and `${VAR}` of earlier names are understood; nothing is executed.
 */
export function parseShellVars(text: string, file: string): { vars: Record<string, string>; problems: Problem[] } {
  const vars: Record<string, string> = {};
  const problems: Problem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) {
      problems.push({ path: file, line: i + 1, message: `not a NAME=value assignment: ${JSON.stringify(line)}` });
      continue;
    }
    let value = m[2]!;
    const startLine = i;
    // A double-quoted value may span lines (make.conf's USE="…" often does).
    const quote = value[0];
    if ((quote === '"' || quote === "'") && !closes(value, quote)) {
      while (i + 1 < lines.length && !closes(value, quote)) value += "\n" + lines[++i];
      line = value;
    }
    const v = unquote(value.trim(), vars);
    if (v === undefined) problems.push({ path: file, line: startLine + 1, message: `unterminated quote in ${m[1]}` });
    else vars[m[1]!] = v;
  }
  return { vars, problems };
}

function closes(value: string, quote: string): boolean {
  let n = 0;
  for (let i = 1; i < value.length; i++) if (value[i] === quote && value[i - 1] !== "\\") n++;
  return n >= 1;
}

function unquote(value: string, vars: Record<string, string>): string | undefined {
  const expand = (s: string) => s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => vars[a ?? b] ?? "");
  if (value.startsWith('"')) {
    const end = value.lastIndexOf('"');
    return end > 0 ? expand(value.slice(1, end)).replace(/\s*\n\s*/g, " ") : undefined;
  }
  if (value.startsWith("'")) {
    const end = value.lastIndexOf("'");
    return end > 0 ? value.slice(1, end).replace(/\s*\n\s*/g, " ") : undefined;
  }
  return expand(value.replace(/\s+#.*$/, ""));
}

/** `/etc/portage/make.conf` (or the older `/etc/make.conf`): USE, CFLAGS, FEATURES… */
export function readMakeConf(root: LegacyRoot): { vars: Record<string, string>; problems: Problem[] } {
  for (const file of ["/etc/portage/make.conf", "/etc/make.conf"]) {
    const text = root.read(file);
    if (text !== undefined) return parseShellVars(text, file);
  }
  return { vars: {}, problems: [] };
}
