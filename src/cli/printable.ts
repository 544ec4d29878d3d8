/**
 * Text that came from elsewhere (an agent's report: errors, warnings, service names; a legacy
 * host's files) made safe to print on a terminal: C0 and C1 control characters, DEL and the
 * Unicode controls that reorder or hide text are written as escapes, so a report cannot move
 * the cursor, retitle the window or fake a line of the admin's output.
 *
 * @example printable("boom\u001b[2J\nfake line") // "boom\\x1b[2J\\nfake line"
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** The same, keeping the newlines and tabs of text Congruent laid out itself. */
export function printableLines(text: string): string {
  return text.replace(UNSAFE_BUT_LAYOUT, escape);
}

/** JSON text with the characters JSON.stringify leaves raw (DEL, C1, bidi controls) escaped too. */
export function printableJson(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// Bidi embeddings, overrides and isolates, line/paragraph separators, zero-width marks.
const UNICODE_CONTROLS = "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff";
const UNSAFE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${UNICODE_CONTROLS}]`, "g");
const UNSAFE_BUT_LAYOUT = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${UNICODE_CONTROLS}]`, "g");
const RAW_IN_JSON = new RegExp(`[\\u007f-\\u009f${UNICODE_CONTROLS}]`, "g");

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`);
}
