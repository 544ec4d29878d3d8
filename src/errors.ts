/**
 * Every error Congruent reports on purpose has a code, listed here once and documented in
 * docs/errors.md (a test checks that each code is there). The CLI prints `message` as one line.
 *
 * @example throw new CongruentError("E_HOST_INVALID", `${file}: unknown role "db"`)
 */
export const errorCodes = {
  E_USAGE: "a command was called with missing or contradictory arguments",
  E_HOST_INVALID: "the host description (or a release's role defaults, or a maintenance window) is malformed or breaks the host schema: unknown role, component or setting, a value out of range, an unknown time zone",
  E_LOCAL_INVALID: "a file in an integration point (/etc/local/<component>/) is unreadable, escapes the directory or is rejected by the software",
  E_STORE_NAME: "a store path name breaks Nix's rules (characters, length, leading dot)",
  E_STORE_IO: "reading or writing the store failed",
  E_STORE_MISSING: "a store path that should exist does not",
  E_NO_GENERATION: "there is no generation to act on (nothing switched yet, or nothing to roll back to)",
  E_ACTIVATION: "a step of an activation plan failed; the previous generation stays active",
  E_SERVICE: "the service manager could not start, stop, reload or query a service",
  E_PROGRAM_MISSING: "a program a component needs (e.g. nginx) is not installed",
  E_LOCKED: "another congruent run holds the state directory's lock",
  E_STORE_ENGINE: "the store engine named by --store or $CONGRUENT_STORE is unknown, or the state directory keeps its generations with the other engine",
  E_PROFILE_DENIED: "a user tried to change another user's profile (only root may)",
  E_PROFILE_INPUT: "a profile's user does not exist, or its --paths file or default.nix is unreadable or names something that is not a valid store path (file:line)",
  E_PROFILE_BUILD: "nix-build of a profile's default.nix failed, or gave other than one store path",
  E_PROFILE_CONFLICT: "two store paths installed in one profile provide the same file",
  E_PROFILE_CURRENT: "the current generation of a profile cannot be removed (switch or roll back first)",
  E_DIRECTORY_AUTH: "a directory request had no token or an unknown one (HTTP 401)",
  E_DIRECTORY_FORBIDDEN: "a host token asked for something other than its own description or reports, or a viewer token asked to change something (HTTP 403)",
  E_DIRECTORY_INVALID: "a directory request body or query is malformed; the message names the field (HTTP 400)",
  E_DIRECTORY_NOT_FOUND: "the directory has no such host, resource group, channel or release (HTTP 404)",
  E_DIRECTORY_CONFLICT: "the directory already has that name, or the request contradicts the channel's state (HTTP 409)",
  E_DIRECTORY_RATE_LIMITED: "a host sent reports faster than the directory takes them (HTTP 429, with Retry-After); the agent keeps them in its outbox",
  E_DIRECTORY_HTTP: "the directory answered with an error; the message names the URL, the HTTP status and the server's message",
  E_DIRECTORY_UNREACHABLE: "the directory could not be reached (connection refused, DNS, timeout); an agent falls back to its saved description",
  E_DIRECTORY_TOKEN: "a token is refused where it was given: an admin token of fewer than 128 bits (or shaped like a host token), or a token that is not a host token given to `manage`",
  E_DIRECTORY_DB: "the directory's database URL is unsupported, or opening or migrating the database failed",
  E_WEB_QUERY: "a dashboard host query (e.g. `role:postgresql15 status:failed cve>0`) has an unknown key or a bad value; the message names the term",
  E_VULNSCAN_INPUT: "an NVD data file (or URL) is unreadable, truncated, or not NVD 2.0 JSON; the index is left as it was",
  E_VULNSCAN_INDEX: "the local vulnerability index is missing, unreadable or of a newer schema",
  E_VULNSCAN_WHITELIST: "a whitelist file is unreadable or is not valid TOML of vulnix's whitelist format",
  E_VULNSCAN_SCAN: "a path to scan is not a store path, or its closure cannot be read",
  E_MIGRATE_ROOT: "the legacy root given to migrate inventory, migrate diff or migrate verify does not exist or is not a directory",
  E_MIGRATE_INVENTORY: "an inventory file is unreadable, not JSON, or not what migrate inventory writes; the message names file, line and field",
  E_MIGRATE_PLAN: "a plan directory is missing its host description or snippets, or the plan's output directory cannot be written",
  E_MIGRATE_VERIFY: "migrate verify cannot run the two hosts side by side: it needs root (network and mount namespaces, overlayfs), or a sandbox ended without an answer",
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
