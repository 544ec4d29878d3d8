import { createRequire } from "node:module";
import type * as Jsonc from "jsonc-parser";
import type { ParseError } from "jsonc-parser";
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
  /**
   * Line of the value at `path` (of its key, for an object member), or of the deepest part of
   * the path that exists (the object a missing field belongs in).
   */
  lineAt(path: readonly (string | number)[]): number | undefined;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

// Loaded only when a file is malformed: the common, valid case stays cheap to start.
const jsonc = () => createRequire(import.meta.url)("jsonc-parser") as typeof Jsonc;

/** "CommaExpected" → "comma expected". */
function describe(code: ParseError["error"]): string {
  return jsonc().printParseErrorCode(code).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

export function parseJson(file: string, text: string, code: ErrorCode): JsonSource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // V8's messages do not always carry a position; a tolerant parser finds the first error.
    const errors: ParseError[] = [];
    jsonc().parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
    const first = errors[0];
    const where = first ? `:${lineAt(text, first.offset)}` : "";
    const what = first ? describe(first.error) : "not valid JSON";
    throw new CongruentError(code, `${file}${where}: malformed JSON: ${what}`);
  }
  return {
    file,
    value,
    lineOf(key, after) {
      const start = after === undefined ? 0 : Math.max(0, text.indexOf(JSON.stringify(after)));
      const at = text.indexOf(JSON.stringify(key), start);
      return at < 0 ? undefined : lineAt(text, at);
    },
    lineAt(path) {
      // Only asked for a message: the tolerant parser loads then.
      const { parseTree, findNodeAtLocation } = jsonc();
      const tree = parseTree(text);
      if (!tree) return undefined;
      for (let n = path.length; n >= 0; n--) {
        const node = n === 0 ? tree : findNodeAtLocation(tree, [...path.slice(0, n)]);
        if (node) return lineAt(text, node.parent?.type === "property" ? node.parent.offset : node.offset);
      }
      return undefined;
    },
  };
}
