import type { Problem } from "./types.js";

/** One line of a VDB CONTENTS file. */
export type ContentsEntry =
  | { type: "dir"; path: string }
  | { type: "obj"; path: string; md5: string; mtime: number }
  | { type: "sym"; path: string; target: string; mtime: number }
  | { type: "dev" | "fif"; path: string };

/**
 * Parse a CONTENTS file: `dir PATH`, `obj PATH MD5 MTIME`, `sym PATH -> TARGET MTIME`,
 * `fif PATH`, `dev PATH`. Paths may contain spaces, so the fixed fields are taken from the
 * right end of the line; a line that does not fit is reported with its number and skipped.
 *
 * @example parseContents("obj /etc/nginx/nginx.conf 9b2c… 1700000000\n", "/var/db/pkg/…/CONTENTS")
 */
export function parseContents(text: string, file: string): { entries: ContentsEntry[]; problems: Problem[] } {
  const entries: ContentsEntry[] = [];
  const problems: Problem[] = [];
  let lineNo = 0;
  let start = 0;
  // A hand-rolled line loop: the benchmark host has 50 000 lines and split() doubles the garbage.
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.length === 0) continue;
    const entry = parseLine(line);
    if (entry) entries.push(entry);
    else problems.push({ path: file, line: lineNo, message: `malformed CONTENTS line: ${JSON.stringify(line.length > 120 ? line.slice(0, 120) + "…" : line)}` });
  }
  return { entries, problems };
}

const MD5 = /^[0-9a-f]{32}$/;
const MTIME = /^\d+$/;

function parseLine(line: string): ContentsEntry | undefined {
  const space = line.indexOf(" ");
  if (space < 0) return undefined;
  const type = line.slice(0, space);
  const rest = line.slice(space + 1);
  switch (type) {
    case "dir":
    case "dev":
    case "fif":
      return rest.startsWith("/") ? { type, path: rest } : undefined;
    case "obj": {
      const m = rest.lastIndexOf(" ");
      const h = m > 0 ? rest.lastIndexOf(" ", m - 1) : -1;
      if (h <= 0) return undefined;
      const md5 = rest.slice(h + 1, m);
      const mtime = rest.slice(m + 1);
      const p = rest.slice(0, h);
      if (!p.startsWith("/") || !MD5.test(md5) || !MTIME.test(mtime)) return undefined;
      return { type, path: p, md5, mtime: Number(mtime) };
    }
    case "sym": {
      const m = rest.lastIndexOf(" ");
      if (m <= 0) return undefined;
      const mtime = rest.slice(m + 1);
      const arrow = rest.lastIndexOf(" -> ", m);
      if (arrow <= 0 || !MTIME.test(mtime)) return undefined;
      const p = rest.slice(0, arrow);
      if (!p.startsWith("/")) return undefined;
      return { type, path: p, target: rest.slice(arrow + 4, m), mtime: Number(mtime) };
    }
    default:
      return undefined;
  }
}
