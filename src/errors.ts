/**
 * Every error Congruent reports on purpose has a code, listed here once and documented in
 * docs/errors.md (a test checks that each code is there). The CLI prints `message` as one line.
 *
 * @example throw new CongruentError("E_HOST_INVALID", `${file}: unknown role "db"`)
 */
export const errorCodes = {
  E_USAGE: "a command was called with missing or contradictory arguments",
  E_HOST_INVALID: "the host description is malformed or names an unknown role, component or setting",
  E_LOCAL_INVALID: "a file in an integration point (/etc/local/<component>/) is unreadable, escapes the directory or is rejected by the software",
  E_STORE_NAME: "a store path name breaks Nix's rules (characters, length, leading dot)",
  E_STORE_IO: "reading or writing the store failed",
  E_STORE_MISSING: "a store path that should exist does not",
  E_NO_GENERATION: "there is no generation to act on (nothing switched yet, or nothing to roll back to)",
  E_ACTIVATION: "a step of an activation plan failed; the previous generation stays active",
  E_SERVICE: "the service manager could not start, stop, reload or query a service",
  E_PROGRAM_MISSING: "a program a component needs (e.g. nginx) is not installed",
  E_LOCKED: "another congruent run holds the state directory's lock",
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class CongruentError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CongruentError";
  }
}
