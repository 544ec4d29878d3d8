/**
 * A string a regular expression of an nginx `location ~` or `server_name ~` matches, built from
 * the expression (literal characters kept, classes and wildcards replaced by a representative,
 * the first alternative of each group, optional parts left out), then checked with the
 * expression itself; undefined when no sample is found. nginx uses PCRE; the expressions found
 * in configurations are within what JavaScript's RegExp reads the same.
 *
 * @example sampleOf("\\.php$", false) // "index.php"  (a location path gets its "/" from the caller)
 */
export function sampleOf(pattern: string, caseless: boolean): string | undefined {
  let flags = caseless ? "i" : "";
  let source = pattern;
  const inline = /^\(\?([a-z]+)\)/.exec(source);
  if (inline) {
    if (inline[1]!.includes("i")) flags = "i";
    source = source.slice(inline[0].length);
  }
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch {
    return undefined;
  }
  for (const built of [build(source, "a"), build(source, "x")]) {
    if (built === undefined) continue;
    // A pattern for an ending (`\.php$`) gets a file name in front, as a client would send it.
    for (const candidate of built.startsWith(".") ? [`index${built}`, built] : [built, `index${built}`]) if (re.test(candidate)) return candidate;
  }
  return undefined;
}

/** Walk the expression once, writing one representative of each piece. */
function build(source: string, letter: string): string | undefined {
  let out = "";
  let i = 0;
  const atom = (): string | undefined => {
    const c = source[i]!;
    if (c === "\\") {
      const e = source[i + 1] ?? "";
      i += 2;
      if (e === "d") return "1";
      if (e === "w") return letter;
      if (e === "s") return "-";
      if (e === "D" || e === "W" || e === "S") return "-";
      if (e === "b" || e === "B") return "";
      return e;
    }
    if (c === "[") {
      const end = closing(source, i);
      if (end < 0) return undefined;
      const body = source.slice(i + 1, end);
      i = end + 1;
      return classSample(body, letter);
    }
    if (c === "(") {
      const end = closingParen(source, i);
      if (end < 0) return undefined;
      let inner = source.slice(i + 1, end);
      i = end + 1;
      if (inner.startsWith("?!") || inner.startsWith("?=") || inner.startsWith("?<!") || inner.startsWith("?<=")) return "";
      inner = inner.replace(/^\?(?::|<[A-Za-z_][A-Za-z0-9_]*>|P<[A-Za-z_][A-Za-z0-9_]*>|'[A-Za-z_]+')/, "");
      return build(firstAlternative(inner), letter);
    }
    i++;
    if (c === ".") return letter;
    if (c === "^" || c === "$") return "";
    return c;
  };
  while (i < source.length) {
    if (source[i] === "|") break; // the first alternative of the whole expression
    const piece = atom();
    if (piece === undefined) return undefined;
    const q = source[i];
    if (q === "*" || q === "?") {
      i++;
      if (source[i] === "?" || source[i] === "+") i++;
      continue; // zero times
    }
    if (q === "+") {
      i++;
      if (source[i] === "?" || source[i] === "+") i++;
      out += piece;
      continue;
    }
    if (q === "{") {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(source.slice(i));
      if (m) {
        i += m[0].length;
        out += piece.repeat(Number(m[1]));
        continue;
      }
    }
    out += piece;
  }
  return out;
}

function classSample(body: string, letter: string): string {
  if (body.startsWith("^")) {
    // Anything but the listed characters: a letter unless it is excluded, else a digit.
    const excluded = body.slice(1);
    return excluded.includes(letter) || /a-z/.test(excluded) ? "1" : letter;
  }
  if (body.startsWith("\\")) return body[1] === "d" ? "1" : body[1] === "w" ? letter : body[1] ?? letter;
  return body[0] === "]" ? "]" : (body[0] ?? letter);
}

function closing(s: string, open: number): number {
  for (let j = open + 1; j < s.length; j++) {
    if (s[j] === "\\") j++;
    else if (s[j] === "]" && j > open + 1) return j;
  }
  return -1;
}

function closingParen(s: string, open: number): number {
  let depth = 0;
  for (let j = open; j < s.length; j++) {
    const c = s[j];
    if (c === "\\") j++;
    else if (c === "[") j = Math.max(j, closing(s, j));
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return j;
  }
  return -1;
}

function firstAlternative(s: string): string {
  let depth = 0;
  for (let j = 0; j < s.length; j++) {
    const c = s[j];
    if (c === "\\") j++;
    else if (c === "[") j = Math.max(j, closing(s, j));
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return s.slice(0, j);
  }
  return s;
}
