import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { DirectoryClient } from "../directory/client.js";
import { CongruentError } from "../errors.js";

/** Options of every command that talks to the directory. */
export interface ClientOptions {
  directory?: string;
  tokenFile?: string;
  ca?: string;
  json?: boolean;
}

export const DIRECTORY_HELP = "directory URL (default: $CONGRUENT_DIRECTORY, else http://127.0.0.1:8470)";
const TOKEN_HELP = "read the admin token from this file (default: $CONGRUENT_TOKEN)";

export const CA_HELP = "trust the directory's certificate if this CA (PEM file) signed it, e.g. a private CA (default: $CONGRUENT_CA, else the system's CAs)";

export const ENV_HELP = `
Environment:
  CONGRUENT_DIRECTORY  directory URL when --directory is not given
  CONGRUENT_TOKEN      admin token when --token-file is not given
  CONGRUENT_CA         CA certificate file when --ca is not given`;

/** The CA file of `--ca`, else `$CONGRUENT_CA`; undefined for the system's CAs. */
export function readCa(opts: { ca?: string }): Buffer | undefined {
  const file = opts.ca ?? (process.env.CONGRUENT_CA || undefined);
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CongruentError("E_USAGE", `--ca ${file}: cannot read the CA certificate: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

/** `--directory`, else `$CONGRUENT_DIRECTORY`, else the local default. */
export const directoryUrl = (opts: { directory?: string }) => opts.directory ?? process.env.CONGRUENT_DIRECTORY ?? "http://127.0.0.1:8470";

/** The token from `--token-file`, else `$CONGRUENT_TOKEN`; an error naming both otherwise. */
export function readToken(opts: { tokenFile?: string }): string {
  if (opts.tokenFile) {
    try {
      return readFileSync(opts.tokenFile, "utf8").trim();
    } catch (error) {
      throw new CongruentError("E_USAGE", `${opts.tokenFile}: cannot read the token file: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  const token = process.env.CONGRUENT_TOKEN;
  if (!token) throw new CongruentError("E_USAGE", "no token: pass --token-file FILE or set CONGRUENT_TOKEN");
  return token;
}

/** Heavy modules load only when a command runs: the client is small, but still lazy. */
export async function client(opts: ClientOptions): Promise<DirectoryClient> {
  const { DirectoryClient } = await import("../directory/client.js");
  return new DirectoryClient({ url: directoryUrl(opts), token: readToken(opts), ca: readCa(opts) });
}

export const withClient = (cmd: Command) =>
  cmd.option("--directory <url>", DIRECTORY_HELP).option("--token-file <file>", TOKEN_HELP).option("--ca <file>", CA_HELP).option("--json", "print the API's JSON answer");

/** Commander collector for repeatable options. */
export const collect = (value: string, previous: string[]) => [...previous, value];
