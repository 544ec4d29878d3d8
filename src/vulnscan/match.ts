import shippedOverrides from "./vendor-overrides.json" with { type: "json" };
import type { IndexDb } from "./index-db.js";
import { isAnyOrNa } from "./cpe.js";
import { compareVersions, isWholeKey, keyPrefixes, versionKey, versionKeyBounds, versionsEqual } from "./version.js";

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

/** One CPE match entry's version fields, as the index stores them. */
export interface VersionFields {
  version: string;
  upd: string;
  start_incl: string | null;
  start_excl: string | null;
  end_incl: string | null;
  end_excl: string | null;
}

interface FullRow extends VersionFields {
  cve: number;
  vendor: string;
  product: string;
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

function ranged(e: VersionFields): boolean {
  return e.start_incl !== null || e.start_excl !== null || e.end_incl !== null || e.end_excl !== null;
}

/**
 * The version an entry without a range names. An update field (`2.0:beta9`) is part of the
 * version: Nix writes 2.0-beta9 (or 2.0beta9, the same components); sudo's `1.9.5:patch1` is
 * Nix's 1.9.5p1.
 */
function cpeVersion(e: VersionFields): string {
  return isAnyOrNa(e.upd) ? e.version : `${e.version}-${e.upd.replace(/^patch(?=\d)/, "p")}`;
}

/**
 * Does the CPE entry cover `version`? `{ allVersions }` when it names neither a version nor
 * a range (`*` or `-`): such CVEs are reported, marked as affecting every version.
 */
export function entryCovers(e: VersionFields, version: string): { hit: boolean; allVersions: boolean } {
  if (!ranged(e)) {
    if (isAnyOrNa(e.version)) return { hit: true, allVersions: true };
    return { hit: versionsEqual(cpeVersion(e), version), allVersions: false };
  }
  const hit =
    (e.start_incl === null || compareVersions(version, e.start_incl) >= 0) &&
    (e.start_excl === null || compareVersions(version, e.start_excl) > 0) &&
    (e.end_incl === null || compareVersions(version, e.end_incl) <= 0) &&
    (e.end_excl === null || compareVersions(version, e.end_excl) < 0);
  return { hit, allVersions: false };
}

/** Language package sets' prefixes of a pname, not part of the product's name (`python3.11-requests`, `perl5.38-DBI`). */
const LANGUAGE_PREFIX = /^(python\d*(\.\d+)?|perl\d[\d.]*)-/;

/** Above every version key (they start with a tag, `%` to `)`). */
const KEY_MAX = "*";
/** Just above a key `k` and below every greater one: no key extends another (each ends with its end mark). */
const justAbove = (k: string) => `${k}!`;

/**
 * The entry as a range of version keys: it covers `version` exactly when
 * `lo <= versionKey(version) < hi` (code-unit order, as SQL's BINARY collation compares them), the
 * same answer as {@link entryCovers}. All versions: the whole range, `lo` empty and `hi` `*`.
 * `prefix` is the range's longest common component prefix ({@link keyPrefixes}): every version
 * it covers has that prefix, so a lookup visits only ranges filed under its own prefixes;
 * `depth` is its number of components, or {@link WHOLE} when it is a whole key (one version).
 *
 * @example rangeKeys({ version: "*", upd: "*", start_incl: "3.0.0", start_excl: null, end_incl: null, end_excl: "3.0.7" })
 */
export function rangeKeys(e: VersionFields): { lo: string; hi: string; prefix: string; depth: number } {
  let lo = "";
  let hi = KEY_MAX;
  if (!ranged(e)) {
    if (!isAnyOrNa(e.version)) {
      lo = versionKey(cpeVersion(e));
      hi = justAbove(lo);
    }
  } else {
    const max = (a: string, b: string) => (a >= b ? a : b);
    const min = (a: string, b: string) => (a <= b ? a : b);
    if (e.start_incl !== null) lo = max(lo, versionKey(e.start_incl));
    if (e.start_excl !== null) lo = max(lo, justAbove(versionKey(e.start_excl)));
    if (e.end_incl !== null) hi = min(hi, justAbove(versionKey(e.end_incl)));
    if (e.end_excl !== null) hi = min(hi, versionKey(e.end_excl));
  }
  const prefixes = keyPrefixes(lo);
  const depth = prefixes.findLastIndex((p) => hi.startsWith(p));
  const prefix = prefixes[depth] as string;
  return { lo, hi, prefix, depth: isWholeKey(prefix) ? WHOLE : depth };
}

/** The depth of a prefix that is a whole version key. */
export const WHOLE = -1;

/** A vulnerable application entry that covers a package's version. */
export interface Hit {
  cve: number;
  vendor: string;
  /** The entry names no version or range. */
  allVersions: boolean;
}

/** Products to look up, with the version each is asked about. */
export interface Probe {
  product: string;
  version: string;
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
 * A scan is two queries, whatever the number of packages: every (product, version) probe at
 * once, answered in SQL from the entries' key ranges (only covering entries come back), then
 * the CVEs found; vendors are chosen only for the products that had a hit.
 *
 * @example new Matcher(db).matchAll([{ name: "openssl-1.0.1f", pname: "openssl", version: "1.0.1f", path, patched: [] }])
 */
export class Matcher {
  private readonly byCve;
  private readonly vendorsOf;
  private readonly coveringRows;
  private readonly cveRows;
  private readonly vendorCache = new Map<string, Map<string, number>>();
  private readonly candidateCache = new Map<string, Map<string, Set<string>>>();
  private readonly configCache = new Map<number, FullRow[][][]>();
  private readonly advisoryCache = new Map<number, Omit<Advisory, "allVersions" | "cpe"> & { complex: boolean }>();

  constructor(
    protected readonly db: IndexDb,
    private readonly overrides: VendorOverrides = loadOverrides(),
  ) {
    this.byCve = db.prepare<[number], FullRow>("SELECT * FROM cpe_matches WHERE cve = ? ORDER BY cfg, node");
    this.vendorsOf = db.prepare<[string], string>("SELECT vendors FROM products WHERE product = ?").pluck();
    // Probes `[product, key, [prefix length…]]`, in product order (the index's: its pages are
    // then read in order, once each): the products known (each asked only the prefix depths
    // its entries use: most use one or two), then for each prefix the ranges filed under it
    // whose rest (the bounds after the prefix, as the key's rest) ends above the key's rest
    // and starts at or below it. The WHERE repeats the partial index's condition so SQLite uses it.
    this.coveringRows = db
      .prepare<[string], [number, number, string, number]>(
        `WITH probes(probe, product, k, ends) AS MATERIALIZED (
           SELECT j.key, j.value ->> 0 AS product, j.value ->> 1, j.value -> 2 FROM json_each(?) AS j ORDER BY product),
         asked(probe, product, prefix, rest) AS (
           SELECT p.probe, p.product, substr(p.k, 1, n.value), substr(p.k, n.value + 1) FROM probes AS p CROSS JOIN products AS pr CROSS JOIN json_each(p.ends) AS n
           WHERE pr.product = p.product AND instr(pr.depths, ',' || iif(n.key = json_array_length(p.ends) - 1, ${WHOLE}, n.key) || ','))
         SELECT a.probe, m.cve, m.vendor, m.lo_tail = '' AND m.hi_tail = '${KEY_MAX}'
         FROM asked AS a CROSS JOIN cpe_matches AS m
         WHERE m.product = a.product AND m.part = 'a' AND m.vulnerable = 1 AND m.prefix = a.prefix AND m.hi_tail > a.rest AND m.lo_tail <= a.rest`,
      )
      .raw();
    this.cveRows = db.prepare<[string], { rowid: number; id: string; description: string | null; cvss_v31: number | null; cvss_v30: number | null; cvss_v2: number | null; vector: string | null; complex: number }>(
      "SELECT rowid, id, description, cvss_v31, cvss_v30, cvss_v2, vector, complex FROM cves WHERE rowid IN (SELECT value FROM json_each(?))",
    );
  }

  /** Vendor → number of CVEs of `product` (vulnerable application entries). */
  protected vendorCounts(product: string): Map<string, number> {
    const json = this.vendorsOf.get(product);
    return new Map(json === undefined ? [] : Object.entries(JSON.parse(json) as Record<string, number>));
  }

  /** The entries covering each probe's version, in one query: probe index → hits. */
  protected covering(probes: readonly Probe[]): Map<number, Hit[]> {
    const out = new Map<number, Hit[]>();
    // Each version's key once; an indexed loop: this runs once per scan over every package, cold.
    const keys = new Map<string, { key: string; ends: number[] }>();
    const asked = new Array<[string, string, number[]]>(probes.length);
    for (let i = 0; i < probes.length; i++) {
      const p = probes[i] as Probe;
      let k = keys.get(p.version);
      if (k === undefined) keys.set(p.version, (k = versionKeyBounds(p.version)));
      asked[i] = [p.product, k.key, k.ends];
    }
    const rows = this.coveringRows.all(JSON.stringify(asked));
    for (let r = 0; r < rows.length; r++) {
      const [probe, cve, vendor, every] = rows[r] as [number, number, string, number];
      const hit = { cve, vendor, allVersions: every === 1 };
      const list = out.get(probe);
      if (list) list.push(hit);
      else out.set(probe, [hit]);
    }
    return out;
  }

  private counts(product: string): Map<string, number> {
    let c = this.vendorCache.get(product);
    if (!c) this.vendorCache.set(product, (c = this.vendorCounts(product)));
    return c;
  }

  /** The products a pname is looked up as, before vendors: the override's, else the pname (python/perl prefixes removed), with `-` and as `_`. */
  private productsOf(pname: string): string[] {
    const explicit = this.overrides.packages[pname];
    if (explicit) return [...new Set(explicit.map((pair) => pair.split(":")[1] as string))];
    const base = pname.toLowerCase().replace(LANGUAGE_PREFIX, "");
    const underscored = base.replaceAll("-", "_");
    return underscored === base ? [base] : [base, underscored];
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
      for (const product of this.productsOf(pname)) {
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
    const counts = this.counts(product);
    if (counts.size <= 1) return new Set(counts.keys());
    const max = Math.max(...counts.values());
    const out = new Set([...counts].filter(([, n]) => n === max).map(([v]) => v));
    for (const v of [product, `${product}_project`, pname]) if (counts.has(v)) out.add(v);
    return out;
  }

  /** CVEs affecting `pkg`, without the ones its patches fix, highest score first. */
  match(pkg: Package): Advisory[] {
    return this.matchAll([pkg])[0] as Advisory[];
  }

  /** {@link match} for every package, in two queries (and one per product that had a hit). */
  matchAll(packages: readonly Package[]): Advisory[][] {
    // One probe per distinct (product, version); package i's products, in order, point at theirs:
    // asked[first[i]] … asked[first[i + 1] - 1]. Flat arrays and indexed loops: this runs once
    // per scan over every package, before the JIT has warmed up.
    const probes: Probe[] = [];
    const probeIndex = new Map<string, number>();
    const asked: number[] = [];
    const first = new Int32Array(packages.length + 1);
    for (let i = 0; i < packages.length; i++) {
      const pkg = packages[i] as Package;
      first[i] = asked.length;
      if (pkg.version === "") continue;
      const products = this.productsOf(pkg.pname);
      for (let k = 0; k < products.length; k++) {
        const product = products[k] as string;
        const id = `${product}\0${pkg.version}`;
        let p = probeIndex.get(id);
        if (p === undefined) probeIndex.set(id, (p = probes.push({ product, version: pkg.version }) - 1));
        asked.push(p);
      }
    }
    first[packages.length] = asked.length;
    const covering = this.covering(probes);

    type Found = { allVersions: boolean; cpe: string; order: number; vendor: string };
    const found: (Map<number, Found> | undefined)[] = new Array(packages.length);
    for (let i = 0; i < packages.length; i++) {
      let hits: Map<number, Found> | undefined;
      for (let a = first[i] as number, order = 0; a < (first[i + 1] as number); a++, order++) {
        const probe = asked[a] as number;
        const list = covering.get(probe);
        if (!list) continue;
        const product = (probes[probe] as Probe).product;
        const vendors = this.candidates((packages[i] as Package).pname).get(product);
        for (const h of list) {
          if (!vendors?.has(h.vendor)) continue;
          hits ??= new Map();
          const prev = hits.get(h.cve);
          // A versioned match outranks an all-versions one; the CPE named is the last of the
          // candidates' entries in index order (product as listed, then vendor), as always.
          const later = !prev || order > prev.order || (order === prev.order && h.vendor >= prev.vendor);
          const allVersions = (prev?.allVersions ?? true) && h.allVersions;
          hits.set(h.cve, later ? { allVersions, cpe: `${h.vendor}:${product}`, order, vendor: h.vendor } : { ...(prev as Found), allVersions });
        }
      }
      found[i] = hits;
    }
    const cves = new Set<number>();
    for (let i = 0; i < found.length; i++) found[i]?.forEach((_, cve) => cves.add(cve));
    this.loadAdvisories([...cves]);

    return packages.map((pkg, i) => {
      const out: Advisory[] = [];
      const hits = found[i];
      if (!hits) return out;
      for (const [cve, hit] of hits) {
        const info = this.advisoryCache.get(cve);
        if (!info) throw new Error(`index inconsistent: CVE row ${cve} missing`);
        if (pkg.patched.includes(info.id)) continue;
        if (info.complex && !this.configurationsHold(cve, this.candidates(pkg.pname), pkg.version)) continue;
        out.push({ id: info.id, ...(info.cvss ? { cvss: info.cvss } : {}), allVersions: hit.allVersions, cpe: hit.cpe, ...(info.description ? { description: info.description } : {}), url: info.url });
      }
      return sortAdvisories(out);
    });
  }

  private loadAdvisories(cves: readonly number[]): void {
    const todo = cves.filter((c) => !this.advisoryCache.has(c));
    if (todo.length === 0) return;
    for (const r of this.cveRows.all(JSON.stringify(todo))) {
      const cvss: Cvss | undefined =
        r.cvss_v31 !== null ? { score: r.cvss_v31, version: "3.1" } : r.cvss_v30 !== null ? { score: r.cvss_v30, version: "3.0" } : r.cvss_v2 !== null ? { score: r.cvss_v2, version: "2.0" } : undefined;
      if (cvss && r.vector) cvss.vector = r.vector;
      const a: Omit<Advisory, "allVersions" | "cpe"> & { complex: boolean } = { id: r.id, url: `https://nvd.nist.gov/vuln/detail/${r.id}`, complex: r.complex === 1 };
      if (cvss) a.cvss = cvss;
      if (r.description) a.description = r.description;
      this.advisoryCache.set(r.rowid, a);
    }
  }

  /** A CVE's entries by configuration, then node (read once per CVE: one CVE can have hundreds). */
  private configurations(cve: number): FullRow[][][] {
    let configs = this.configCache.get(cve);
    if (!configs) {
      const byCfg = new Map<number, Map<number, FullRow[]>>();
      for (const r of this.byCve.all(cve)) {
        let nodes = byCfg.get(r.cfg);
        if (!nodes) byCfg.set(r.cfg, (nodes = new Map()));
        const list = nodes.get(r.node);
        if (list) list.push(r);
        else nodes.set(r.node, [r]);
      }
      configs = [...byCfg.values()].map((nodes) => [...nodes.values()]);
      this.configCache.set(cve, configs);
    }
    return configs;
  }

  /** The AND/OR rule of the class comment, over every configuration of one CVE. */
  private configurationsHold(cve: number, cands: Map<string, Set<string>>, version: string): boolean {
    for (const nodes of this.configurations(cve)) {
      let ours = false;
      const nodeValues: Tri[] = [];
      for (const nodeRows of nodes) {
        const values = nodeRows.map((r): Tri => {
          if (r.part !== "a" || r.vulnerable !== 1) return U;
          const isUs = cands.get(r.product)?.has(r.vendor) === true && entryCovers(r, version).hit;
          if (isUs) ours = true;
          return isUs ? T : F;
        });
        const v = combine(values, (nodeRows[0] as FullRow).node_and === 1);
        nodeValues.push((nodeRows[0] as FullRow).node_negate === 1 ? negate(v) : v);
      }
      const value = combine(nodeValues, ((nodes[0] as FullRow[])[0] as FullRow).cfg_and === 1);
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
