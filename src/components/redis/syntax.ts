/**
 * redis.conf's language, as redis-server reads it (config.c, sds.c): one directive per line, its
 * words split like a command line. The one copy: the component composes and checks redis.conf with
 * it, migrate reads legacy files and writes snippets with it.
 */

/**
 * Split one line as Redis does (sds.c `sdssplitargs`): words separated by blanks, "double
 * quotes" with C escapes (\n, \xHH, ...), 'single quotes' with only \' ; a closing quote must be
 * followed by a blank. Undefined for unbalanced quotes.
 *
 * @example splitArgs(`save "900 1"`) // ["save", "900 1"]
 */
export function splitArgs(line: string): string[] | undefined {
  const out: string[] = [];
  const blank = (c: string | undefined) => c !== undefined && /\s/.test(c);
  const hex = (c: string | undefined) => c !== undefined && /[0-9a-fA-F]/.test(c);
  let i = 0;
  for (;;) {
    while (blank(line[i])) i++;
    if (i >= line.length) return out;
    let word = "";
    let quote: '"' | "'" | null = null;
    for (let done = false; !done; i++) {
      const c = line[i];
      if (quote === '"') {
        if (c === undefined) return undefined;
        if (c === "\\" && line[i + 1] === "x" && hex(line[i + 2]) && hex(line[i + 3])) {
          word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === "\\" && i + 1 < line.length) {
          const e = line[++i]!;
          word += ({ n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" } as Record<string, string>)[e] ?? e;
        } else if (c === '"') {
          if (i + 1 < line.length && !blank(line[i + 1])) return undefined;
          done = true;
        } else {
          word += c;
        }
      } else if (quote === "'") {
        if (c === undefined) return undefined;
        if (c === "\\" && line[i + 1] === "'") {
          word += "'";
          i++;
        } else if (c === "'") {
          if (i + 1 < line.length && !blank(line[i + 1])) return undefined;
          done = true;
        } else {
          word += c;
        }
      } else if (c === undefined || blank(c)) {
        done = true;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else {
        word += c;
      }
    }
    out.push(word);
  }
}

/** A double-quoted redis.conf word (paths with blanks, passwords). */
export function quote(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/**
 * A word written so that redis-server reads it back unchanged: bare when it can be (no blank, no
 * quote, no backslash, printable ASCII, not empty), else double-quoted with C escapes.
 *
 * @example quoteArg("allkeys-lru") // "allkeys-lru"; quoteArg("it's") // "\"it's\""
 */
export function quoteArg(word: string): string {
  if (word !== "" && /^[\x21-\x7e]+$/.test(word) && !/["'\\]/.test(word)) return word;
  const escape = (c: string) => {
    if (c === '"' || c === "\\") return `\\${c}`;
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\x07": "\\a" };
    if (named[c]) return named[c];
    const code = c.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : c;
  };
  return `"${[...word].map(escape).join("")}"`;
}
