import { readFileSync } from "node:fs";

/** Values the shipped unit templates (systemd/congruent-manage.{service,timer}) are filled with. */
export interface UnitValues {
  node: string;
  cli: string;
  state: string;
  /** The store engine (embedded or nix). */
  store: string;
  local: string;
  directory: string;
  tokenFile: string;
  /** CA file for the directory's certificate ($CONGRUENT_CA in the unit); empty for the system's CAs. */
  ca: string;
  name: string;
}

const template = (file: string) => readFileSync(new URL(`../../systemd/${file}`, import.meta.url), "utf8");

/** systemd quoting: a word with spaces or quotes is double-quoted; `%` is doubled. */
function word(value: string): string {
  const escaped = value.replace(/%/g, "%%");
  return /[\s"'\\]/.test(escaped) ? `"${escaped.replace(/(["\\])/g, "\\$1")}"` : escaped;
}

/**
 * The agent's service and timer units, from the templates shipped in the repository.
 *
 * @example renderUnits({ node: "/usr/bin/node", cli: "/opt/congruent/dist/cli/main.js", ... })
 */
export function renderUnits(values: UnitValues): Record<string, string> {
  const fill = (text: string) => text.replace(/@(\w+)@/g, (_, key: keyof UnitValues) => word(values[key]));
  return { "congruent-manage.service": fill(template("congruent-manage.service")), "congruent-manage.timer": template("congruent-manage.timer") };
}
