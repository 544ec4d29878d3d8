import fs from "node:fs";
import path from "node:path";
import { parseCpe } from "./cpe.js";
import { CongruentError } from "../errors.js";
import { fetchCached } from "./fetch-cache.js";
import { readFeed, type NvdCve } from "./feed-reader.js";
import { indexStats, openIndex, refreshProducts, type IndexDb } from "./index-db.js";
import { rangeKeys } from "./match.js";

export interface ImportProgress {
  /** The file (or URL) being read. */
  source: string;
  bytesRead: number;
  bytesTotal: number;
  cvesRead: number;
}

export interface ImportOptions {
  cacheDir: string;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportResult {
  sources: { source: string; cves: number; notModified: boolean }[];
  /** Records read from all sources. */
  read: number;
  /** New CVEs. */
  added: number;
  /** CVEs whose newer record (later lastModified) replaced the one in the index. */
  replaced: number;
  /** Records not newer than the index's: kept as they were. */
  unchanged: number;
  total: { cves: number; cpeMatches: number };
}

interface Input {
  source: string;
  file: string;
  etag?: string;
  notModified: boolean;
}

/** Files a `--from` argument names: a URL (downloaded), a file, or every *.json[.gz] under a directory. */
async function resolveInputs(from: readonly string[], cacheDir: string): Promise<Input[]> {
  const out: Input[] = [];
  for (const f of from) {
    if (/^https?:\/\//i.test(f)) {
      const got = await fetchCached(f, cacheDir);
      out.push({ source: f, file: got.file, etag: got.etag, notModified: got.notModified });
      continue;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(f);
    } catch (e) {
      throw new CongruentError("E_VULNSCAN_INPUT", `cannot read ${f}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
    }
    if (st.isDirectory()) {
      const files = (fs.readdirSync(f, { recursive: true }) as string[])
        .filter((n) => /\.json(\.gz)?$/i.test(n))
        .map((n) => path.join(f, n))
        .filter((p) => fs.statSync(p).isFile())
        .sort();
      if (files.length === 0) throw new CongruentError("E_VULNSCAN_INPUT", `${f}: no .json or .json.gz files in this directory`);
      for (const file of files) out.push({ source: path.resolve(file), file, notModified: false });
    } else out.push({ source: path.resolve(f), file: f, notModified: false });
  }
  return out;
}

/** The best score of one CVSS version: NVD's primary entry, else the first. */
function score(list: { type?: string; cvssData?: { baseScore?: number; vectorString?: string } }[] | undefined) {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const m = list.find((x) => x.type === "Primary") ?? list[0];
  const s = m?.cvssData?.baseScore;
  return typeof s === "number" ? { score: s, vector: m?.cvssData?.vectorString ?? null } : undefined;
}

/** Whether a configuration needs full AND/negation evaluation (else: any vulnerable match counts). */
function isComplex(cve: NvdCve): boolean {
  return (cve.configurations ?? []).some(
    (c) => c.negate === true || (c.nodes ?? []).length > 1 || (c.nodes ?? []).some((n) => n.negate === true || (n.operator === "AND" && (n.cpeMatch ?? []).length > 1)),
  );
}

class Writer {
  added = 0;
  replaced = 0;
  unchanged = 0;
  /** Products whose vulnerable application entries changed: their `products` rows are recounted. */
  readonly touched = new Set<string>();
  private readonly productsOfCve;
  private readonly get;
  private readonly insertCve;
  private readonly updateCve;
  private readonly deleteMatches;
  private readonly insertMatch;

  constructor(db: IndexDb) {
    this.get = db.prepare<[string], { rowid: number; last_modified: string }>("SELECT rowid, last_modified FROM cves WHERE id = ?");
    const cols = "published = @published, last_modified = @lastModified, vuln_status = @vulnStatus, description = @description, cvss_v31 = @v31, cvss_v30 = @v30, cvss_v2 = @v2, vector = @vector, complex = @complex";
    this.insertCve = db.prepare(
      "INSERT INTO cves (id, published, last_modified, vuln_status, description, cvss_v31, cvss_v30, cvss_v2, vector, complex) VALUES (@id, @published, @lastModified, @vulnStatus, @description, @v31, @v30, @v2, @vector, @complex)",
    );
    this.updateCve = db.prepare(`UPDATE cves SET ${cols} WHERE rowid = @rowid`);
    this.deleteMatches = db.prepare("DELETE FROM cpe_matches WHERE cve = ?");
    this.productsOfCve = db.prepare<[number], string>("SELECT DISTINCT product FROM cpe_matches WHERE cve = ? AND part = 'a' AND vulnerable = 1").pluck();
    this.insertMatch = db.prepare(
      "INSERT INTO cpe_matches (cve, cfg, cfg_and, node, node_and, node_negate, vulnerable, part, vendor, product, version, upd, start_incl, start_excl, end_incl, end_excl, lo, hi, prefix, depth, lo_tail, hi_tail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
  }

  /** Insert `cve`, or replace the indexed record when this one was modified later. */
  write(cve: NvdCve): void {
    const existing = this.get.get(cve.id);
    if (existing && existing.last_modified >= cve.lastModified) {
      this.unchanged++;
      return;
    }
    const m = cve.metrics ?? {};
    const v31 = score(m.cvssMetricV31);
    const v30 = score(m.cvssMetricV30);
    const v2 = score(m.cvssMetricV2);
    const row = {
      id: cve.id,
      published: cve.published ?? null,
      lastModified: cve.lastModified,
      vulnStatus: cve.vulnStatus ?? null,
      description: (cve.descriptions ?? []).find((d) => d.lang === "en")?.value ?? cve.descriptions?.[0]?.value ?? null,
      v31: v31?.score ?? null,
      v30: v30?.score ?? null,
      v2: v2?.score ?? null,
      vector: (v31 ?? v30 ?? v2)?.vector ?? null,
      complex: isComplex(cve) ? 1 : 0,
    };
    let rowid: number;
    if (existing) {
      rowid = existing.rowid;
      this.updateCve.run({ ...row, rowid });
      for (const p of this.productsOfCve.all(rowid)) this.touched.add(p);
      this.deleteMatches.run(rowid);
      this.replaced++;
    } else {
      rowid = Number(this.insertCve.run(row).lastInsertRowid);
      this.added++;
    }
    // A rejected CVE keeps its record (so an older copy cannot come back) but matches nothing.
    if (cve.vulnStatus === "Rejected") return;
    (cve.configurations ?? []).forEach((cfg, ci) => {
      const cfgAnd = cfg.operator === "AND" ? 1 : 0;
      (cfg.nodes ?? []).forEach((node, ni) => {
        const nodeAnd = node.operator === "AND" ? 1 : 0;
        for (const match of node.cpeMatch ?? []) {
          const cpe = typeof match.criteria === "string" ? parseCpe(match.criteria) : undefined;
          const fields = {
            version: cpe?.version ?? "*", upd: cpe?.update ?? "*",
            start_incl: match.versionStartIncluding ?? null, start_excl: match.versionStartExcluding ?? null, end_incl: match.versionEndIncluding ?? null, end_excl: match.versionEndExcluding ?? null,
          };
          // Only vulnerable application entries are matched by key range.
          const app = cpe?.part === "a" && match.vulnerable === true;
          const keys = app ? rangeKeys(fields) : undefined;
          if (app) this.touched.add(cpe.product);
          // An unparsable entry stays as part '?': unknown, like a platform we cannot see.
          this.insertMatch.run(
            rowid, ci, cfgAnd, ni, nodeAnd, node.negate ? 1 : 0, match.vulnerable ? 1 : 0,
            cpe?.part ?? "?", cpe?.vendor ?? "", cpe?.product ?? "", fields.version, fields.upd,
            fields.start_incl, fields.start_excl, fields.end_incl, fields.end_excl, keys?.lo ?? null, keys?.hi ?? null, keys?.prefix ?? null, keys?.depth ?? null,
            keys ? keys.lo.slice(keys.prefix.length) : null, keys ? keys.hi.slice(keys.prefix.length) : null,
          );
        }
      });
    });
  }
}

/**
 * Import NVD 2.0 data (feed files, API 2.0 pages, directories of them, URLs) into the index
 * in `opts.cacheDir`, in one transaction: a bad file anywhere leaves the index as it was.
 * A CVE already indexed is replaced only by a record with a later `lastModified`.
 *
 * @example await importNvd(["/srv/nvd/"], { cacheDir: cacheDir() }) // { added: 251234, … }
 */
export async function importNvd(from: readonly string[], opts: ImportOptions): Promise<ImportResult> {
  if (from.length === 0) throw new CongruentError("E_VULNSCAN_INPUT", "nothing to import: give --from FILE|DIR|URL");
  const inputs = await resolveInputs(from, opts.cacheDir);
  const db = openIndex(opts.cacheDir);
  try {
    const known = db.prepare<[string], { etag: string | null }>("SELECT etag FROM sources WHERE source = ?");
    const recordSource = db.prepare("INSERT OR REPLACE INTO sources (source, etag, imported_at, cves) VALUES (?, ?, ?, ?)");
    const todo = inputs.filter((i) => !(i.notModified && i.etag !== undefined && known.get(i.source)?.etag === i.etag));
    const bytesTotal = todo.reduce((sum, i) => sum + fs.statSync(i.file).size, 0);
    const result: ImportResult = { sources: [], read: 0, added: 0, replaced: 0, unchanged: 0, total: { cves: 0, cpeMatches: 0 } };
    for (const i of inputs) if (!todo.includes(i)) result.sources.push({ source: i.source, cves: 0, notModified: true });
    const writer = new Writer(db);
    let bytesBefore = 0;
    db.exec("BEGIN IMMEDIATE");
    try {
      for (const input of todo) {
        const label = input.source === path.resolve(input.file) ? input.file : input.source;
        let bytes = 0;
        const { cves } = await readFeed(
          input.file,
          (cve) => {
            writer.write(cve);
            result.read++;
          },
          (b) => {
            bytes = b;
            opts.onProgress?.({ source: label, bytesRead: bytesBefore + b, bytesTotal, cvesRead: result.read });
          },
        ).catch((e: unknown) => {
          // Errors from a downloaded copy name the URL, not the cache file.
          if (e instanceof CongruentError && label !== input.file) throw new CongruentError(e.code, e.message.split(input.file).join(label));
          throw e;
        });
        bytesBefore += bytes;
        recordSource.run(input.source, input.etag ?? null, new Date().toISOString(), cves);
        result.sources.push({ source: input.source, cves, notModified: input.notModified });
      }
      // Many products touched (a first import): one recount of all is cheaper than one each.
      refreshProducts(db, writer.touched.size > 2000 ? undefined : writer.touched);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
    Object.assign(result, { added: writer.added, replaced: writer.replaced, unchanged: writer.unchanged, total: indexStats(db) });
    return result;
  } finally {
    db.close();
  }
}
