import path from "node:path";

/** Options every command that touches a host's state accepts. */
export interface StateOptions {
  state?: string;
}

/** `--state`, else `$CONGRUENT_STATE`, else /var/lib/congruent; always absolute. */
export function stateDir(opts: StateOptions): string {
  return path.resolve(opts.state ?? process.env.CONGRUENT_STATE ?? "/var/lib/congruent");
}

/** `--local`, else `$CONGRUENT_LOCAL`, else /etc/local; always absolute. */
export function localDir(opts: { local?: string }): string {
  return path.resolve(opts.local ?? process.env.CONGRUENT_LOCAL ?? "/etc/local");
}

/** Print `value` as one JSON document, or `text` for people. */
export function report(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + "\n" : text() + "\n");
}
