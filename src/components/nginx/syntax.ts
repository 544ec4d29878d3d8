/** One node of an nginx configuration: a directive, with a block when it has one. */
export interface NginxNode {
  /** The directive's name as nginx reads it (quotes and escapes resolved): in a `map` block, the key. */
  name: string;
  /** Arguments exactly as written (quotes kept), so a snippet says what the legacy file said. */
  args: string[];
  path: string;
  line: number;
  block?: NginxNode[];
}

/** Where nginx's own parser would stop, with the same kind of message. */
export interface NginxSyntaxError {
  path: string;
  line: number;
  message: string;
}

/** One token of nginx's syntax; `start`/`end` are offsets in the text (end exclusive). */
export interface NginxToken {
  kind: "word" | ";" | "{" | "}";
  text: string;
  line: number;
  start: number;
  end: number;
}

/**
 * nginx's configuration syntax: directives are words ended by `;` or followed by a `{…}`
 * block; `#` starts a comment at the start of a word; single and double quotes group words
 * (backslash escapes inside); `${var}` inside a word is a variable, not a block.
 */
export function tokenize(text: string, file: string): { tokens: NginxToken[]; error?: NginxSyntaxError } {
  const tokens: NginxToken[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") i++;
    else if (c === "#") {
      while (i < n && text[i] !== "\n") i++;
    } else if (c === ";" || c === "{" || c === "}") {
      tokens.push({ kind: c, text: c, line, start: i, end: i + 1 });
      i++;
    } else if (c === '"' || c === "'") {
      const start = i;
      const startLine = line;
      i++;
      while (i < n && text[i] !== c) {
        if (text[i] === "\\") i++;
        if (text[i] === "\n") line++;
        i++;
      }
      if (i >= n) return { tokens, error: { path: file, line: startLine, message: `unterminated ${c === '"' ? "double" : "single"} quote` } };
      i++;
      tokens.push({ kind: "word", text: text.slice(start, i), line: startLine, start, end: i });
    } else {
      const start = i;
      while (i < n) {
        const d = text[i]!;
        if (d === "{" && text[i - 1] === "$") {
          while (i < n && text[i] !== "}") i++;
          i++;
          continue;
        }
        if (d === " " || d === "\t" || d === "\r" || d === "\n" || d === ";" || d === "{" || d === "}") break;
        if (d === "\\") i++;
        i++;
      }
      tokens.push({ kind: "word", text: text.slice(start, i), line, start, end: i });
    }
  }
  return { tokens };
}

/**
 * Parse an nginx configuration file into directives (arguments kept as written). On a syntax
 * error the result carries it with the file's line; `nodes` is then what came before it.
 *
 * @example parseNginx("server { listen 80; }\n", "/etc/nginx/conf.d/a.conf").nodes[0].block
 */
export function parseNginx(text: string, file: string): { nodes: NginxNode[]; error?: NginxSyntaxError } {
  const { tokens, error } = tokenize(text, file);
  if (error) return { nodes: [], error };
  let pos = 0;
  const lastLine = text.split("\n").length;

  const list = (inBlock: boolean): NginxNode[] => {
    const nodes: NginxNode[] = [];
    for (;;) {
      const t = tokens[pos];
      if (!t) {
        if (inBlock) throw { path: file, line: lastLine, message: 'unexpected end of file, expecting "}"' } satisfies NginxSyntaxError;
        return nodes;
      }
      if (t.kind === "}") {
        if (!inBlock) throw { path: file, line: t.line, message: 'unexpected "}"' } satisfies NginxSyntaxError;
        pos++;
        return nodes;
      }
      if (t.kind !== "word") throw { path: file, line: t.line, message: `unexpected "${t.kind}"` } satisfies NginxSyntaxError;
      const node: NginxNode = { name: unquote(t.text), args: [], path: file, line: t.line };
      pos++;
      for (;;) {
        const a = tokens[pos];
        if (!a) throw { path: file, line: lastLine, message: 'unexpected end of file, expecting ";" or "}"' } satisfies NginxSyntaxError;
        pos++;
        if (a.kind === "word") node.args.push(a.text);
        else if (a.kind === ";") break;
        else if (a.kind === "{") {
          node.block = list(true);
          break;
        } else throw { path: file, line: a.line, message: 'unexpected "}"' } satisfies NginxSyntaxError;
      }
      nodes.push(node);
    }
  };
  try {
    return { nodes: list(false) };
  } catch (e) {
    if (isSyntaxError(e)) return { nodes: [], error: e };
    throw e;
  }
}

const isSyntaxError = (e: unknown): e is NginxSyntaxError => typeof e === "object" && e !== null && "line" in e && "message" in e && "path" in e;

/**
 * A word's value as nginx reads it (ngx_conf_read_token): quotes removed; `\"`, `\'` and `\\`
 * stand for the character, `\t`, `\r`, `\n` for tab, return and newline; any other backslash is
 * kept (`\.php$` stays a regular expression).
 *
 * @example unquote('"a b"') // "a b"
 */
export function unquote(word: string): string {
  const q = word[0];
  const body = (q === '"' || q === "'") && word.endsWith(q) && word.length >= 2 ? word.slice(1, -1) : word;
  if (!body.includes("\\")) return body;
  return body.replace(/\\([\s\S])/g, (all, c: string) => (c === '"' || c === "'" || c === "\\" ? c : c === "t" ? "\t" : c === "r" ? "\r" : c === "n" ? "\n" : all));
}

/**
 * A value written as one nginx word that reads back as exactly that value: bare when it can be,
 * else double-quoted with `"`, `\` and control characters escaped. The empty string is `""`
 * (the key of the websocket `map` in nginx's own documentation).
 *
 * @example quoteWord("") // '""'
 */
export function quoteWord(value: string): string {
  if (value !== "" && !/[\s;{}"'\\]/.test(value) && !value.startsWith("#")) return value;
  return `"${value.replace(/[\\"\t\r\n]/g, (c) => ({ "\\": "\\\\", '"': '\\"', "\t": "\\t", "\r": "\\r", "\n": "\\n" })[c]!)}"`;
}

/** Write directives back as nginx syntax, four spaces per level. */
export function serializeNginx(nodes: NginxNode[], indent = 0): string {
  const pad = " ".repeat(indent * 4);
  return nodes
    .map((n) => {
      // The name is kept unquoted (it is what nginx matches on); quote it again where nginx needs quotes.
      const head = [quoteWord(n.name), ...n.args].join(" ");
      if (!n.block) return `${pad}${head};\n`;
      return `${pad}${head} {\n${serializeNginx(n.block, indent + 1)}${pad}}\n`;
    })
    .join("");
}
