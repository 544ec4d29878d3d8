import shippedOverrides from "./vendor-overrides.json" with { type: "json" };
import type { IndexDb } from "./index-db.js";
import { isAnyOrNa } from "./cpe.js";
import { compareVersions, versionsEqual } from "./version.js";

/** A package to check: what a store path or its `.drv` says it is. */
export interface Package {
  name: string;
  pname: string;
  version: string;
  path: string;
  /** CVE ids the derivation's patches fix. */
  patched: string[];
}

export interface Cvss {
  score: number;
  version: "3.1" | "3.0" | "2.0";
  vector?: string;
}

export interface Advisory {
  id: string;
  cvss?: Cvss;
  /** The matching CPE entries name no version or range: every version is affected. */
  allVersions: boolean;
  /** `vendor:product` that matched. */
  cpe: string;
  description?: string;
  url: string;
}

export interface VendorOverrides {
  packages: Record<string, string[]>;
  vendors: Record<string, string[]>;
}

/** The shipped overrides (src/vulnscan/vendor-overrides.json). */
export function loadOverrides(): VendorOverrides {
  // Imported (not read from disk) so tsc copies the file into dist/ beside this module.
  const raw = shippedOverrides as Partial<VendorOverrides>;
  return { packages: raw.packages ?? {}, vendors: raw.vendors ?? {} };
}

interface Row {
  cve: number;
  vendor: string;
  product: string;
  version: string;
  upd: string;
  start_incl: string | null;
  start_excl: string | null;
  end_incl: string | null;
  end_excl: string | null;
}

interface FullRow extends Row {
  cfg: number;
  cfg_and: number;
  node: number;
  node_and: number;
  node_negate: number;
  vulnerable: number;
  part: string;
}

/** Tri-state for AND/OR evaluation: what we cannot know (an OS, hardware) is U. */
type Tri = 0 | 1 | 2;
const F: Tri = 0;
const T: Tri = 1;
const U: Tri = 2;

/**
 * Does the CPE entry cover `version`? `{ allVersions }` when it names neither a version nor
 * a range (`*` or `-`): such CVEs are reported, marked as affecting every version.
 */
export function entryCovers(e: Omit<Row, "cve" | "vendor" | "product">, version: string): { hit: boolean; allVersions: boolean } {
  const ranged = e.start_incl !== null || e.start_excl !== null || e.end_incl !== null || e.end_excl !== null;
  if (!ranged) {
    if (isAnyOrNa(e.version)) return { hit: true, allVersions: true };
    // An update field (`2.0:beta9`) is part of the version: Nix writes 2.0-beta9 (or 2.0beta9,
    // the same components).
    // sudo's `1.9.5:patch1` is Nix's 1.9.5p1.
    const cpeVersion = isAnyOrNa(e.upd) ? e.version : `${e.version}-${e.upd.replace(/^patch(?=\d)/, "p")}`;
    return { hit: versionsEqual(cpeVersion, version), allVersions: false };
  }
  const hit =
    (e.start_incl === null || compareVersions(version, e.start_incl) >= 0) &&
    (e.start_excl === null || compareVersions(version, e.start_excl) > 0) &&
    (e.end_incl === null || compareVersions(version, e.end_incl) <= 0) &&
    (e.end_excl === null || compareVersions(version, e.end_excl) < 0);
  return { hit, allVersions: false };
}

/**
 * Matches packages against the index, vendor-aware.
 *
 * Configuration rule (NVD's AND/OR): each cpeMatch is true, false or unknown. A vulnerable
 * application entry is true when it is this package (vendor, product, version), else false.
 * Everything else — `vulnerable:false` context entries ("running on jenkins", "on Windows"),
 * operating systems and hardware — is unknown: a store path cannot tell us the platform, so
 * it neither confirms nor rules the CVE out. Nodes combine with their operator (OR: any true,
 * else unknown if any unknown; AND: any false → false, else unknown if any unknown), `negate`
 * swaps true and false; configurations combine their nodes the same way. A CVE is reported
 * when some configuration is true or unknown *and* one of its vulnerable application entries
 * is this package. So "openssl AND (linux or windows)" reports openssl; "plugin AND jenkins"
 * does not report jenkins.
 *
 * @example new Matcher(db).match({ name: "openssl-1.0.1f", pname: "openssl", version: "1.0.1f", path, patched: [] })
 */
export class Matcher {
  private readonly byProduct;
  private readonly byCve;
  private readonly cveInfo;
  private readonly productCache = new Map<string, Row[]>();
  private readonly candidateCache = new Map<string, Map<string, Set<string>>>();
  private readonly advisoryCache = new Map<number, Omit<Advisory, "allVersions" | "cpe">>();

  constructor(
    db: IndexDb,
    private readonly overrides: VendorOverrides = loadOverrides(),
  ) {
    // The WHERE repeats the partial index's condition so SQLite uses it.
    this.byProduct = db.prepare<[string], Row>(
      "SELECT cve, vendor, product, version, upd, start_incl, start_excl, end_incl, end_excl FROM cpe_matches WHERE product = ? AND part = 'a' AND vulnerable = 1",
    );
    this.byCve = db.prepare<[number], FullRow>("SELECT * FROM cpe_matches WHERE cve = ? ORDER BY cfg, node");
    this.cveInfo = db.prepare<[number], { id: string; description: string | null; cvss_v31: number | null; cvss_v30: number | null; cvss_v2: number | null; vector: string | null; complex: number }>(
      "SELECT id, description, cvss_v31, cvss_v30, cvss_v2, vector, complex FROM cves WHERE rowid = ?",
    );
  }

  private rows(product: string): Row[] {
    let rows = this.productCache.get(product);
    if (!rows) {
      rows = this.byProduct.all(product);
      this.productCache.set(product, rows);
    }
    return rows;
  }

  /**
   * The CPE products (and for each, the vendors) a pname stands for: the override table's
   * pairs, else the pname as product (python/perl package prefixes removed) with vendors
   * chosen by {@link chooseVendors}.
   *
   * @example matcher.candidates("git") // Map { "git" => Set { "git-scm", "git" } }
   */
  candidates(pname: string): Map<string, Set<string>> {
    const cached = this.candidateCache.get(pname);
    if (cached) return cached;
    const out = new Map<string, Set<string>>();
    const explicit = this.overrides.packages[pname];
    if (explicit) {
      for (const pair of explicit) {
        const [vendor, product] = pair.split(":") as [string, string];
        out.set(product, (out.get(product) ?? new Set()).add(vendor));
      }
    } else {
      const base = pname.toLowerCase().replace(/^(python\d*(\.\d+)?|perl\d[\d.]*)-/, "");
      for (const product of new Set([base, base.replace(/-/g, "_")])) {
        const vendors = this.chooseVendors(product, pname.toLowerCase());
        if (vendors.size > 0) out.set(product, vendors);
      }
    }
    this.candidateCache.set(pname, out);
    return out;
  }

  /**
   * The product→vendor table, derived from the data: one vendor → that one; several → the
   * override's list, else the vendor(s) with the most CVEs for that product plus a vendor
   * named like the product (`redis:redis`, `zlib_project:zlib`). So `git` is git-scm's (most
   * CVEs) and git's, never jenkins' (its Git plugin).
   */
  chooseVendors(product: string, pname = product): Set<string> {
    const listed = this.overrides.vendors[product];
    if (listed) return new Set(listed);
    const counts = new Map<string, Set<number>>();
    for (const r of this.rows(product)) counts.set(r.vendor, (counts.get(r.vendor) ?? new Set()).add(r.cve));
    if (counts.size <= 1) return new Set(counts.keys());
    const max = Math.max(...[...counts.values()].map((s) => s.size));
    const out = new Set([...counts].filter(([, s]) => s.size === max).map(([v]) => v));
    for (const v of [product, `${product}_project`, pname]) if (counts.has(v)) out.add(v);
    return out;
  }

  /** CVEs affecting `pkg`, without the ones its patches fix, highest score first. */
  match(pkg: Package): Advisory[] {
    if (pkg.version === "") return [];
    const cands = this.candidates(pkg.pname);
    const hits = new Map<number, { allVersions: boolean; cpe: string }>();
    for (const [product, vendors] of cands) {
      for (const r of this.rows(product)) {
        if (!vendors.has(r.vendor)) continue;
        const c = entryCovers(r, pkg.version);
        if (!c.hit) continue;
        const prev = hits.get(r.cve);
        // A versioned match outranks an all-versions one for the same CVE.
        hits.set(r.cve, { allVersions: (prev?.allVersions ?? true) && c.allVersions, cpe: `${r.vendor}:${r.product}` });
      }
    }
    const out: Advisory[] = [];
    for (const [cve, hit] of hits) {
      const info = this.advisory(cve);
      if (pkg.patched.includes(info.id)) continue;
      if (info.complex && !this.configurationsHold(cve, cands, pkg.version)) continue;
      out.push({ id: info.id, ...(info.cvss ? { cvss: info.cvss } : {}), allVersions: hit.allVersions, cpe: hit.cpe, ...(info.description ? { description: info.description } : {}), url: info.url });
    }
    return sortAdvisories(out);
  }

  private advisory(cve: number): Omit<Advisory, "allVersions" | "cpe"> & { complex?: boolean } {
    let a = this.advisoryCache.get(cve) as (Omit<Advisory, "allVersions" | "cpe"> & { complex?: boolean }) | undefined;
    if (!a) {
      const r = this.cveInfo.get(cve);
      if (!r) throw new Error(`index inconsistent: CVE row ${cve} missing`);
      const cvss: Cvss | undefined =
        r.cvss_v31 !== null ? { score: r.cvss_v31, version: "3.1" } : r.cvss_v30 !== null ? { score: r.cvss_v30, version: "3.0" } : r.cvss_v2 !== null ? { score: r.cvss_v2, version: "2.0" } : undefined;
      if (cvss && r.vector) cvss.vector = r.vector;
      a = { id: r.id, url: `https://nvd.nist.gov/vuln/detail/${r.id}`, complex: r.complex === 1 };
      if (cvss) a.cvss = cvss;
      if (r.description) a.description = r.description;
      this.advisoryCache.set(cve, a);
    }
    return a;
  }

  /** The AND/OR rule of the class comment, over every configuration of one CVE. */
  private configurationsHold(cve: number, cands: Map<string, Set<string>>, version: string): boolean {
    const rows = this.byCve.all(cve);
    const configs = new Map<number, FullRow[]>();
    for (const r of rows) configs.set(r.cfg, [...(configs.get(r.cfg) ?? []), r]);
    for (const cfgRows of configs.values()) {
      let ours = false;
      const nodes = new Map<number, FullRow[]>();
      for (const r of cfgRows) nodes.set(r.node, [...(nodes.get(r.node) ?? []), r]);
      const nodeValues: Tri[] = [];
      for (const nodeRows of nodes.values()) {
        const values = nodeRows.map((r): Tri => {
          if (r.part !== "a" || r.vulnerable !== 1) return U;
          const isUs = cands.get(r.product)?.has(r.vendor) === true && entryCovers(r, version).hit;
          if (isUs) ours = true;
          return isUs ? T : F;
        });
        const v = combine(values, (nodeRows[0] as FullRow).node_and === 1);
        nodeValues.push((nodeRows[0] as FullRow).node_negate === 1 ? negate(v) : v);
      }
      const value = combine(nodeValues, (cfgRows[0] as FullRow).cfg_and === 1);
      if (ours && value !== F) return true;
    }
    return false;
  }
}

function combine(values: Tri[], and: boolean): Tri {
  if (and) return values.includes(F) ? F : values.includes(U) ? U : T;
  return values.includes(T) ? T : values.includes(U) ? U : F;
}

function negate(v: Tri): Tri {
  return v === T ? F : v === F ? T : U;
}

/** Highest CVSS first (v3.1, else 3.0, else 2 — the score the record has), then by id. */
export function sortAdvisories<A extends { id: string; cvss?: Cvss }>(list: A[]): A[] {
  return list.sort((a, b) => (b.cvss?.score ?? -1) - (a.cvss?.score ?? -1) || a.id.localeCompare(b.id));
}
