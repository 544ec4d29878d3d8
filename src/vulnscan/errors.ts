/**
 * Error codes of the vulnerability scanner. They belong in src/errors.ts and docs/errors.md
 * (owned elsewhere); until they move there, they live here with the same shape.
 *
 * @example throw new VulnscanError("E_VULNSCAN_INPUT", `${file}: truncated gzip`)
 */
export const vulnscanErrorCodes = {
  E_VULNSCAN_INPUT: "an NVD data file (or URL) is unreadable, truncated, or not NVD 2.0 JSON; the index is left as it was",
  E_VULNSCAN_INDEX: "the local vulnerability index is missing, unreadable or of a newer schema",
  E_VULNSCAN_WHITELIST: "a whitelist file is unreadable or is not valid TOML of vulnix's whitelist format",
  E_VULNSCAN_SCAN: "a path to scan is not a store path, or its closure cannot be read",
} as const;

export type VulnscanErrorCode = keyof typeof vulnscanErrorCodes;

export class VulnscanError extends Error {
  constructor(
    readonly code: VulnscanErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "VulnscanError";
  }
}
