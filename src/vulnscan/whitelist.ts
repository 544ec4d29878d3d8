import fs from "node:fs";
import { parse, TomlError } from "smol-toml";
import { CongruentError } from "../errors.js";
import { splitName } from "./version.js";
import type { Whitelist, WhitelistRule } from "./whitelist-rules.js";

export { ruleActive, whitelisted, type Whitelist, type WhitelistRule } from "./whitelist-rules.js";

const KNOWN = new Set(["cve", "until", "issue_url", "comment"]);

/**
 * Parse a whitelist in vulnix's TOML format. Unknown keys are kept as warnings, not errors,
 * so a newer vulnix file still works; a syntax error names the file and line.
 *
 * @example parseWhitelist('["openssl-1.0.1f"]\ncve = ["CVE-2014-0160"]\nuntil = "2030-01-01"\n', "w.toml")
 */
export function parseWhitelist(text: string, file: string): Whitelist {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    const where = e instanceof TomlError ? `:${e.line}:${e.column}` : "";
    const msg = (e as Error).message.split("\n")[0];
    throw new CongruentError("E_VULNSCAN_WHITELIST", `${file}${where}: whitelist is not valid TOML: ${msg}`);
  }
  const rules: WhitelistRule[] = [];
  const warnings: string[] = [];
  const bad = (key: string, what: string): never => {
    throw new CongruentError("E_VULNSCAN_WHITELIST", `${file}: ["${key}"]: ${what}`);
  };
  for (const [key, value] of Object.entries(doc)) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date) {
      bad(key, "expected a section such as [\"pkg-1.2\"] with cve/until/issue_url/comment keys");
    }
    const section = value as Record<string, unknown>;
    for (const k of Object.keys(section)) if (!KNOWN.has(k)) warnings.push(`${file}: ["${key}"]: unknown key "${k}" ignored`);
    const split = key === "*" ? { pname: "*", version: "" } : splitName(key);
    const rule: WhitelistRule = { key, pname: split.pname, file };
    if (split.version !== "") rule.version = split.version;
    if (section.cve !== undefined) rule.cve = strings(section.cve, () => bad(key, "cve must be a string or a list of strings")).map((c) => c.toUpperCase());
    if (section.until !== undefined) rule.until = untilDate(section.until, () => bad(key, `until must be a date (YYYY-MM-DD), found ${JSON.stringify(section.until)}`));
    if (section.issue_url !== undefined) rule.issueUrl = strings(section.issue_url, () => bad(key, "issue_url must be a string or a list of strings"));
    if (section.comment !== undefined) rule.comment = strings(section.comment, () => bad(key, "comment must be a string or a list of strings"));
    rules.push(rule);
  }
  return { rules, warnings };
}

function strings(v: unknown, fail: () => never): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  return fail();
}

function untilDate(v: unknown, fail: () => never): Date {
  const d = v instanceof Date ? v : typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v) ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) return fail();
  return d;
}

/**
 * Read and merge several whitelist files (rules simply add up: any active rule hides a finding).
 *
 * @example loadWhitelists(["/etc/congruent/vulnscan-whitelist.toml"]).rules.length
 */
export function loadWhitelists(files: readonly string[]): Whitelist {
  const out: Whitelist = { rules: [], warnings: [] };
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new CongruentError("E_VULNSCAN_WHITELIST", `cannot read whitelist ${file}: ${(e as Error).message}`);
    }
    const w = parseWhitelist(text, file);
    out.rules.push(...w.rules);
    out.warnings.push(...w.warnings);
  }
  return out;
}
