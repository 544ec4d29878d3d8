import { createHash } from "node:crypto";
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../../errors.js";
import { tokenize, unquote, type NginxToken } from "../nginx/syntax.js";
import { globSource } from "../../userscan/glob.js";
import type { LocalFile, TrackedInput } from "../component.js";
import { canRead, writersOf, type Principal } from "./readable-by.js";

/** Where the generation keeps its copies of the files snippets include (beside nginx.conf). */
export const INCLUDES_DIR = "includes";

/**
 * Directives whose file nginx's master opens as root when it loads its configuration (and so
 * `nginx -t` too). They are read in place, never copied (keys must not enter the world-readable
 * store), but only if the snippet's owners could read them themselves.
 */
const READ_AT_LOAD = new Set(
  ["ssl", "proxy_ssl", "grpc_ssl", "uwsgi_ssl"].flatMap((p) => ["certificate", "certificate_key", "trusted_certificate", "crl", "password_file"].map((s) => `${p}_${s}`)).concat(
    ["ssl_client_certificate", "ssl_dhparam", "ssl_stapling_file", "ssl_session_ticket_key"],
  ),
);

/** The snippets as the generation holds them, with every file they include copied beside them. */
export interface ResolvedSnippets {
  /** Snippet name → its text, each include pointing at the generation's copy. */
  local: Record<string, Buffer>;
  /** Copy name (under {@link INCLUDES_DIR}/) → the included file's text, its own includes pointing at copies too. */
  includes: Record<string, Buffer>;
  /** One input per included file (and per glob), hashed, with the paths the agent stats to notice a change. */
  inputs: Record<string, TrackedInput>;
  /** Copy name → the file it was copied from, to name it in nginx's messages. */
  origins: Map<string, string>;
}

interface Directive {
  name: string;
  head: NginxToken;
  args: NginxToken[];
  /** `;`, `{`, or missing at the end of the file. */
  end?: NginxToken;
}

/** Every directive of a file, blocks flattened: what matters here is each directive's name and arguments. */
function directives(tokens: NginxToken[]): Directive[] {
  const out: Directive[] = [];
  let i = 0;
  while (i < tokens.length) {
    const head = tokens[i]!;
    if (head.kind !== "word") {
      i++;
      continue;
    }
    let j = i + 1;
    while (tokens[j]?.kind === "word") j++;
    out.push({ name: unquote(head.text), head, args: tokens.slice(i + 1, j), end: tokens[j] });
    i = j + 1;
  }
  return out;
}

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const GLOB = /[*?[]/;
const MAX_DEPTH = 8;

/** The files an absolute pattern names, sorted as glob(3) sorts them, and the directories read to find them. */
function expand(pattern: string): { files: string[]; dirs: string[] } {
  let candidates = ["/"];
  const dirs: string[] = [];
  for (const segment of pattern.split("/").filter(Boolean)) {
    if (!GLOB.test(segment)) {
      candidates = candidates.map((c) => path.join(c, segment));
      continue;
    }
    const match = new RegExp(`^${globSource(segment)}$`);
    candidates = candidates.flatMap((c) => {
      let names: string[];
      try {
        names = readdirSync(c);
      } catch {
        return [];
      }
      dirs.push(c);
      return names.filter((n) => match.test(n) && (!n.startsWith(".") || segment.startsWith("."))).map((n) => path.join(c, n));
    });
  }
  const files = candidates.filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
  return { files: files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), dirs };
}

/**
 * Read every snippet's includes as nginx would, and make each included file an input of the
 * generation: its text is copied into the generation (so a rollback serves the old text, and
 * a change is a new generation, planned as a reload) and the include is rewritten, on the same
 * line, to the copy. A file that the people who may write the snippet could not read
 * themselves (by the permission bits, every directory on the way included) is refused with
 * the snippet's file and line, before nginx -t (which runs as root) ever opens it, so no
 * check reveals what they could not read. The same holds for the certificate and key files
 * nginx loads as root (read in place, never copied). Relative includes name files of the
 * generation (mime.types, other snippets) and are left alone.
 *
 * @example resolveSnippets(ctx.local).includes // { "3f…-shop.conf": <text of /srv/shop/nginx/shop.conf> }
 */
export function resolveSnippets(files: LocalFile[]): ResolvedSnippets {
  const out: ResolvedSnippets = { local: {}, includes: {}, inputs: {}, origins: new Map() };
  let dirWriters: Principal[] | undefined;
  for (const f of files) {
    // Who may have written this snippet: the integration point's owners and the file's.
    let mine: Principal[] | undefined;
    const writers = () => (mine ??= unique([...(dirWriters ??= writersOf(statSync(path.dirname(f.path)))), ...writersOf(statSync(f.path))]));
    out.local[f.name] = rewrite(f.contents, f.path, writers, [], out);
  }
  return out;
}

const unique = (ps: Principal[]) => [...new Map(ps.map((p) => [`${p.uid}:${p.gids.join(",")}`, p])).values()];

function refuse(file: string, line: number, message: string): never {
  throw new CongruentError("E_LOCAL_INVALID", `${file}:${line}: ${message}`);
}

/** Who among `writers` could not read `file`; "no such file" only when all of them could have seen that for themselves. */
function readProblem(writers: Principal[], file: string): string | undefined {
  const access = writers.map((p) => ({ p, ...canRead(p, file) }));
  const denied = access.filter((a) => !a.readable);
  if (denied.length === 0) return undefined;
  let exists = true;
  try {
    statSync(file);
  } catch {
    exists = false;
  }
  if (!exists && access.every((a) => a.searchable)) return "no such file";
  return `the snippet's owners (${denied.map((a) => a.p.name).join(", ")}) cannot read it themselves, so it is not read for them`;
}

/** The path an argument names: null for a relative one inside the generation; refused when it escapes or is unclear. */
function argPath(token: NginxToken, file: string, directive: string): string | null {
  const value = unquote(token.text);
  // nginx keeps or drops a backslash depending on the character after it: no path needs one.
  if (value.includes("\\")) refuse(file, token.line, `${directive} ${value}: a path with a backslash is not accepted`);
  if (path.isAbsolute(value)) return path.normalize(value);
  if (path.normalize(value).startsWith("..")) refuse(file, token.line, `${directive} ${value}: a relative path names a file of the generation and must stay inside it; use an absolute path`);
  return null;
}

function rewrite(text: Buffer, file: string, writers: () => Principal[], stack: string[], out: ResolvedSnippets): Buffer {
  const source = text.toString("utf8");
  const { tokens, error } = tokenize(source, file);
  // What cannot be read to the end here is not handed to nginx -t either.
  if (error) refuse(error.path, error.line, error.message);
  const edits: { start: number; end: number; text: string }[] = [];
  for (const d of directives(tokens)) {
    const first = d.args[0];
    if (d.name === "include" && first && d.args.length === 1 && d.end?.kind === ";") {
      const target = argPath(first, file, "include");
      if (target === null) continue;
      const copies = include(target, first, file, writers, stack, out);
      edits.push({ start: d.head.start, end: d.end.end, text: copies.map((c) => `include ${INCLUDES_DIR}/${c};`).join(" ") });
    } else if (READ_AT_LOAD.has(d.name) && first && !/^(data|engine):|\$/.test(unquote(first.text))) {
      const target = argPath(first, file, d.name);
      const problem = target === null ? undefined : readProblem(writers(), target);
      if (problem) refuse(file, first.line, `${d.name} ${target}: ${problem}`);
    }
  }
  if (edits.length === 0) return text;
  let result = source;
  for (const e of edits.reverse()) {
    // The copy's include takes the directive's place on its line; later lines keep their numbers.
    const newlines = source.slice(e.start, e.end).split("\n").length - 1;
    result = result.slice(0, e.start) + e.text + "\n".repeat(newlines) + result.slice(e.end);
  }
  return Buffer.from(result);
}

/** The copies one include directive names, in nginx's order; each included file becomes an input. */
function include(target: string, at: NginxToken, file: string, writers: () => Principal[], stack: string[], out: ResolvedSnippets): string[] {
  if (stack.length >= MAX_DEPTH) refuse(file, at.line, `include ${target}: includes nested deeper than ${MAX_DEPTH}`);
  let targets = [target];
  if (GLOB.test(target)) {
    const { files, dirs } = expand(target);
    for (const d of dirs) {
      const problem = readProblem(writers(), d);
      if (problem) refuse(file, at.line, `include ${target}: directory ${d}: ${problem}`);
    }
    // A file added or removed where the pattern looks changes this input (the directories' stats tell the agent).
    out.inputs[`include:${target}`] = { label: `include ${target}`, hash: sha(files.join("\n")), change: "reload", watch: dirs };
    targets = files;
  }
  return targets.map((t) => {
    const problem = readProblem(writers(), t);
    if (problem) refuse(file, at.line, `include ${t}: ${problem}`);
    const real = realpathSync(t);
    if (stack.includes(real)) refuse(file, at.line, `include ${t}: includes itself (through ${stack.join(" → ")})`);
    const original = readFileSync(real);
    const copy = rewrite(original, t, writers, [...stack, real], out);
    const name = `${sha(copy).slice(0, 16)}-${path.basename(t)}`;
    out.includes[name] = copy;
    out.origins.set(name, t);
    out.inputs[`include:${t}`] = { label: `include ${t}`, hash: sha(original), change: "reload", watch: [t] };
    return name;
  });
}
