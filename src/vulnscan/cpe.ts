/** A CPE 2.3 formatted string, split into its eleven attributes, escapes removed. */
export interface Cpe {
  part: string;
  vendor: string;
  product: string;
  version: string;
  update: string;
  edition: string;
  language: string;
  swEdition: string;
  targetSw: string;
  targetHw: string;
  other: string;
}

const FIELDS = ["part", "vendor", "product", "version", "update", "edition", "language", "swEdition", "targetSw", "targetHw", "other"] as const;

/**
 * Parse `cpe:2.3:part:vendor:product:version:update:…` (CPE 2.3 formatted string binding).
 * `\:` and other backslash escapes are honoured and removed (`12.6\(1\)` → `12.6(1)`);
 * the logical values `*` (ANY) and `-` (NA) stay as they are. Undefined if not CPE 2.3.
 *
 * @example parseCpe("cpe:2.3:a:openssl:openssl:1.0.1f:*:*:*:*:*:*:*")?.version // "1.0.1f"
 */
export function parseCpe(s: string): Cpe | undefined {
  const parts: string[] = [];
  let cur = "";
  let escaped = false;
  let quotedAny = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (escaped) {
      cur += c;
      escaped = false;
      quotedAny = true;
    } else if (c === "\\") escaped = true;
    else if (c === ":") {
      parts.push(quotedAny && (cur === "*" || cur === "-") ? `\\${cur}` : cur);
      cur = "";
      quotedAny = false;
    } else cur += c;
  }
  if (escaped) return undefined;
  parts.push(cur);
  if (parts.length !== 13 || parts[0] !== "cpe" || parts[1] !== "2.3") return undefined;
  const cpe = {} as Cpe;
  FIELDS.forEach((f, i) => (cpe[f] = parts[i + 2] as string));
  if (!["a", "o", "h", "*"].includes(cpe.part)) return undefined;
  return cpe;
}

/** True for the CPE logical values ANY (`*`) and NA (`-`). */
export function isAnyOrNa(v: string): boolean {
  return v === "*" || v === "-" || v === "";
}
