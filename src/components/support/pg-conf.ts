/**
 * postgresql.conf syntax, as PostgreSQL's own lexer (guc-file.l) reads it: one parameter per
 * line, `name = value` or `name value`, `#` starts a comment, a value is a single-quoted string
 * (`''` or `\'` for a quote) or one unquoted token (number with unit, identifier, path).
 */
export interface ConfEntry {
  /** Lower-cased, as PostgreSQL matches names case-insensitively. */
  name: string;
  /** The value with quotes removed. */
  value: string;
  /** 1-based line in the file. */
  line: number;
}

export interface ConfError {
  line: number;
  message: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.$]*/;
const UNQUOTED = /^[^\s#'=]+/;

/** Read `value` at the start of `rest` (after the name and the optional `=`). */
function readValue(rest: string): { value: string; after: string } | { error: string } {
  if (rest.startsWith("'")) {
    let out = "";
    for (let i = 1; i < rest.length; i++) {
      const c = rest[i]!;
      if (c === "\\" && i + 1 < rest.length) {
        out += rest[++i];
      } else if (c === "'") {
        if (rest[i + 1] === "'") {
          out += "'";
          i++;
        } else {
          return { value: out, after: rest.slice(i + 1) };
        }
      } else {
        out += c;
      }
    }
    return { error: "unterminated quoted string" };
  }
  const m = rest.match(UNQUOTED);
  if (!m) return { error: "missing value" };
  return { value: m[0], after: rest.slice(m[0].length) };
}

/**
 * Parse a postgresql.conf fragment; problems are returned with their line, never thrown, so
 * every mistake in a customer's file is reported at once.
 *
 * @example parseConf("work_mem = '16MB'  # sorts\n") // { entries: [{ name: "work_mem", value: "16MB", line: 1 }], errors: [] }
 */
export function parseConf(text: string): { entries: ConfEntry[]; errors: ConfError[] } {
  const entries: ConfEntry[] = [];
  const errors: ConfError[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (text === "" || text.startsWith("#")) return;
    const name = text.match(NAME);
    if (!name) return errors.push({ line, message: `syntax error: expected a parameter name, got "${text.slice(0, 40)}"` });
    let rest = text.slice(name[0].length).trimStart();
    if (rest.startsWith("=")) rest = rest.slice(1).trimStart();
    const value = readValue(rest);
    if ("error" in value) return errors.push({ line, message: `${name[0]}: ${value.error}` });
    const tail = value.after.trim();
    if (tail !== "" && !tail.startsWith("#")) return errors.push({ line, message: `${name[0]}: unexpected text after the value: "${tail.slice(0, 40)}"` });
    entries.push({ name: name[0].toLowerCase(), value: value.value, line });
  });
  return { entries, errors };
}

/** A value written so PostgreSQL reads it back unchanged: always quoted, quotes doubled. */
export function quoteValue(value: string | number | boolean): string {
  const text = typeof value === "boolean" ? (value ? "on" : "off") : String(value);
  return `'${text.replaceAll("'", "''")}'`;
}
