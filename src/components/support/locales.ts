import { spawnSync } from "node:child_process";

let installed: Set<string> | undefined;

/** A locale name as glibc matches it: the codeset lower-cased without dashes (`en_US.UTF-8` = `en_US.utf8`). */
function normalizeLocale(name: string): string {
  const m = /^([^.@]*)(?:\.([^@]*))?(@.*)?$/.exec(name.trim());
  if (!m) return name;
  return `${m[1]}${m[2] !== undefined ? `.${m[2].toLowerCase().replace(/[-_]/g, "")}` : ""}${m[3] ?? ""}`;
}

/** The locales this host has (`locale -a`), normalised; C and POSIX always. */
export function installedLocales(): ReadonlySet<string> {
  if (!installed) {
    const run = spawnSync("locale", ["-a"], { encoding: "utf8" });
    installed = new Set(["C", "POSIX", ...(run.stdout ?? "").split("\n").filter(Boolean).map(normalizeLocale)]);
  }
  return installed;
}

/**
 * True when a program on this host can switch to the locale (setlocale(3) would succeed): the
 * empty name means "from the environment" and always works.
 *
 * @example hasLocale("en_US.UTF-8") // false on a host with only C.UTF-8
 */
export function hasLocale(name: string): boolean {
  return name.trim() === "" || installedLocales().has(normalizeLocale(name));
}
