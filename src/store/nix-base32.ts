import { CongruentError } from "../errors.js";

/** Nix's base32 alphabet: digits and lower-case letters without e, o, t, u. */
export const NIX_BASE32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";

/** Length of the base32 text for `bytes` bytes (20 bytes → 32 chars, 32 bytes → 52 chars). */
export function base32Length(bytes: number): number {
  return Math.ceil((bytes * 8) / 5);
}

/**
 * Encode bytes the way Nix does: 5-bit groups taken from the *end* of the buffer first,
 * so the text is not RFC 4648 base32 but Nix's own spelling.
 *
 * @example nixBase32Encode(Buffer.alloc(20)) // "00000000000000000000000000000000"
 */
export function nixBase32Encode(bytes: Uint8Array): string {
  const len = base32Length(bytes.length);
  let out = "";
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const lo = (bytes[i] ?? 0) >> j;
    const hi = i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0;
    out += NIX_BASE32_ALPHABET[(lo | hi) & 0x1f];
  }
  return out;
}

/**
 * Decode Nix base32 text into floor(len*5/8) bytes; throws E_USAGE on a character outside
 * the alphabet or on set bits past the end (Nix rejects those too, so a hash has one spelling).
 *
 * @example nixBase32Decode("00000000000000000000000000000000").length // 20
 */
export function nixBase32Decode(text: string): Buffer {
  const size = Math.floor((text.length * 5) / 8);
  const out = Buffer.alloc(size);
  for (let n = 0; n < text.length; n++) {
    const c = text[text.length - n - 1] as string;
    const digit = NIX_BASE32_ALPHABET.indexOf(c);
    if (digit < 0) throw new CongruentError("E_USAGE", `invalid character '${c}' in Nix base32 "${text}"`);
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    if (i < size) out[i] = (out[i] as number) | ((digit << j) & 0xff);
    else if (digit !== 0) throw overflow(text, size);
    const carry = digit >> (8 - j);
    if (i + 1 < size) out[i + 1] = (out[i + 1] as number) | carry;
    else if (carry !== 0) throw overflow(text, size);
  }
  return out;
}

function overflow(text: string, size: number): CongruentError {
  return new CongruentError("E_USAGE", `Nix base32 "${text}" does not fit ${size} bytes`);
}

/** True if `text` is well-formed Nix base32 (alphabet and padding bits). */
export function isNixBase32(text: string): boolean {
  try {
    nixBase32Decode(text);
    return true;
  } catch {
    return false;
  }
}
