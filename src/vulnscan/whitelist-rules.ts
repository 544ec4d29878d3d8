import { versionsEqual } from "./version.js";

// Apart from the file format (whitelist.ts, which loads the TOML parser): a scan without
// --whitelist needs only this.

/** One rule of a vulnix whitelist: a `["pkg-1.2"]`, `["pkg"]` or `["*"]` section. */
export interface WhitelistRule {
  /** The section name as written: `pkg-1.2`, `pkg` or `*`. */
  key: string;
  pname: string;
  /** undefined: every version. */
  version?: string;
  /** undefined: every CVE of the package. */
  cve?: string[];
  /** The rule stops applying at the start of this day (UTC). */
  until?: Date;
  issueUrl?: string[];
  comment?: string[];
  file: string;
}

export interface Whitelist {
  rules: WhitelistRule[];
  warnings: string[];
}

/** True while `rule` applies: no `until`, or `until` not yet reached. */
export function ruleActive(rule: WhitelistRule, now: Date = new Date()): boolean {
  return rule.until === undefined || now.getTime() < rule.until.getTime();
}

/**
 * The active rule that hides CVE `cve` of package `pname`/`version`, if any.
 *
 * @example whitelisted(w, "openssl", "1.0.1f", "CVE-2014-0160")?.key // "openssl-1.0.1f"
 */
export function whitelisted(w: Whitelist, pname: string, version: string, cve: string, now: Date = new Date()): WhitelistRule | undefined {
  return w.rules.find(
    (r) =>
      ruleActive(r, now) &&
      (r.pname === "*" || r.pname === pname) &&
      (r.version === undefined || versionsEqual(r.version, version)) &&
      (r.cve === undefined || r.cve.includes(cve)),
  );
}
