import { CongruentError, type ErrorCode } from "../errors.js";

/**
 * JSON text kept beside its parsed value, so an error can name the line a key stands on.
 *
 * @example const doc = parseJson("host.json", text, "E_HOST_INVALID"); doc.lineOf("worker_processes")
 */
export interface JsonSource {
  file: string;
  value: unknown;
  /** Line (1-based) of the first occurrence of `"key"`, after `after` if given. */
  lineOf(key: string, after?: string): number | undefined;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export function parseJson(file: string, text: string, code: ErrorCode): JsonSource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // V8 says "... at position N" (Node 20) or "... (line L column C)" (newer).
    const pos = message.match(/position (\d+)/);
    const lc = message.match(/line (\d+) column (\d+)/);
    const line = lc ? Number(lc[1]) : pos ? lineAt(text, Number(pos[1])) : undefined;
    const what = message.replace(/^JSON\.parse: /, "").replace(/ in JSON at position \d+.*$/, "").replace(/ \(line \d+ column \d+\)$/, "");
    throw new CongruentError(code, `${file}${line ? `:${line}` : ""}: malformed JSON: ${what}`);
  }
  return {
    file,
    value,
    lineOf(key, after) {
      const start = after === undefined ? 0 : Math.max(0, text.indexOf(JSON.stringify(after)));
      const at = text.indexOf(JSON.stringify(key), start);
      return at < 0 ? undefined : lineAt(text, at);
    },
  };
}
