import fs from "node:fs";
import { createGunzip } from "node:zlib";
import { CongruentError } from "../errors.js";

/** The part of an NVD 2.0 `cve` object the index uses. */
export interface NvdCve {
  id: string;
  published?: string;
  lastModified: string;
  vulnStatus?: string;
  descriptions?: { lang: string; value: string }[];
  metrics?: Record<string, { type?: string; source?: string; cvssData?: { baseScore?: number; vectorString?: string } }[] | undefined>;
  configurations?: NvdConfiguration[];
}

export interface NvdConfiguration {
  operator?: string;
  negate?: boolean;
  nodes?: { operator?: string; negate?: boolean; cpeMatch?: NvdCpeMatch[] }[];
}

export interface NvdCpeMatch {
  vulnerable: boolean;
  criteria: string;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
}

/** Everything outside the `vulnerabilities` array may not exceed this (an NVD feed's is tiny). */
const MAX_OUTSIDE = 4 << 20;

const Q = 0x22;
const BS = 0x5c;

/**
 * Split an NVD 2.0 document (feed file or API 2.0 page) into its `vulnerabilities[]`
 * elements while the bytes stream in, so a feed of any size needs memory for one CVE at a
 * time. Everything outside the array is kept (bounded) and checked at the end.
 */
export class FeedSplitter {
  private depth = 0;
  private inString = false;
  private escape = false;
  private started = false;
  private inVulns = false;
  private vulnsSeen = false;
  private elemParts: Buffer[] = [];
  private elemStart = -1;
  private outside: Buffer[] = [];
  private outsideLen = 0;
  count = 0;

  constructor(
    private readonly file: string,
    private readonly onElement: (json: string, index: number) => void,
  ) {}

  private fail(msg: string): never {
    throw new CongruentError("E_VULNSCAN_INPUT", `${this.file}: ${msg}`);
  }

  push(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    let outsideFrom = this.inVulns ? -1 : 0;
    let nextBs = -2;
    if (this.elemStart === -2) this.elemStart = 0; // element continues from the previous chunk
    while (i < n) {
      if (this.inString) {
        if (this.escape) {
          this.escape = false;
          i++;
          continue;
        }
        // Fast path: jump to the next quote or backslash.
        const c = buf[i];
        if (c === BS) {
          this.escape = true;
          i++;
        } else if (c === Q) {
          this.inString = false;
          i++;
        } else {
          // The next backslash is remembered: searching for it anew at every string would
          // rescan the rest of the chunk each time (quadratic in the chunk size).
          if (nextBs !== -1 && nextBs < i) nextBs = buf.indexOf(BS, i);
          const q = buf.indexOf(Q, i);
          const next = q < 0 ? nextBs : nextBs < 0 ? q : Math.min(q, nextBs);
          i = next < 0 ? n : next;
        }
        continue;
      }
      const c = buf[i] as number;
      if (!this.started) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          i++;
          continue;
        }
        if (c === 0xef && buf[i + 1] === 0xbb && buf[i + 2] === 0xbf) {
          i += 3;
          outsideFrom = i;
          continue;
        }
        if (c !== 0x7b) this.fail(`not NVD 2.0 JSON: a JSON object was expected, the file starts with ${JSON.stringify(buf.subarray(i, i + 16).toString("latin1"))}`);
        this.started = true;
      }
      switch (c) {
        case Q:
          this.inString = true;
          break;
        case 0x7b: // {
        case 0x5b: // [
          this.depth++;
          if (this.inVulns && this.depth === 3 && c === 0x7b) this.elemStart = i;
          else if (c === 0x5b && this.depth === 2 && !this.vulnsSeen && this.currentKey(buf, outsideFrom, i) === "vulnerabilities") {
            // Keep the '[' in the outside text; the elements go to onElement.
            this.keep(buf, outsideFrom, i + 1);
            outsideFrom = -1;
            this.inVulns = true;
            this.vulnsSeen = true;
          }
          break;
        case 0x7d: // }
        case 0x5d: // ]
          this.depth--;
          if (this.depth < 0) this.fail("not valid JSON: unbalanced brackets");
          if (this.inVulns && this.depth === 2 && c === 0x7d && this.elemStart !== -1) {
            this.elemParts.push(buf.subarray(this.elemStart, i + 1));
            const text = this.elemParts.length === 1 ? (this.elemParts[0] as Buffer).toString("utf8") : Buffer.concat(this.elemParts).toString("utf8");
            this.elemParts = [];
            this.elemStart = -1;
            this.onElement(text, this.count++);
          } else if (this.inVulns && this.depth === 1) {
            this.inVulns = false;
            outsideFrom = i;
          }
          break;
      }
      i++;
    }
    if (this.elemStart >= 0) {
      this.elemParts.push(buf.subarray(this.elemStart));
      this.elemStart = -2;
    }
    if (outsideFrom >= 0) this.keep(buf, outsideFrom, n);
  }

  /** The key whose value starts at `at` (text kept outside plus this chunk's bytes before it). */
  private currentKey(buf: Buffer, from: number, at: number): string | undefined {
    const tail = (this.outside.length ? Buffer.concat(this.outside).subarray(-256).toString("utf8") : "") + (from >= 0 ? buf.subarray(from, at).toString("utf8") : "");
    const m = /"((?:[^"\\]|\\.)*)"\s*:\s*$/.exec(tail);
    return m?.[1];
  }

  private keep(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.outsideLen += to - from;
    if (this.outsideLen > MAX_OUTSIDE) {
      const head = Buffer.concat(this.outside).toString("utf8", 0, 4096);
      if (head.includes('"CVE_Items"')) this.fail("this is an NVD 1.1 feed (CVE_Items); congruent reads the NVD 2.0 format (nvdcve-2.0-*.json)");
      this.fail("not NVD 2.0 JSON: no \"vulnerabilities\" array near the top of the document");
    }
    this.outside.push(Buffer.from(buf.subarray(from, to)));
  }

  /** Check the end state and the document outside `vulnerabilities`; returns that document. */
  end(): Record<string, unknown> {
    if (!this.started) this.fail("empty file: not NVD 2.0 JSON");
    if (this.inString || this.depth !== 0) this.fail(`truncated JSON: the document ends inside ${this.inVulns ? `vulnerabilities[${this.count}]` : "the top-level object"}`);
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.concat(this.outside).toString("utf8"));
    } catch (e) {
      this.fail(`not valid JSON: ${(e as Error).message}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) this.fail("not NVD 2.0 JSON: the document is not an object");
    const d = doc as Record<string, unknown>;
    if ("CVE_Items" in d) this.fail("this is an NVD 1.1 feed (CVE_Items); congruent reads the NVD 2.0 format (nvdcve-2.0-*.json)");
    if (!this.vulnsSeen) this.fail(`not NVD 2.0 JSON: no "vulnerabilities" array (top-level keys: ${Object.keys(d).join(", ") || "none"})`);
    if (d.format !== undefined && d.format !== "NVD_CVE") this.fail(`not an NVD CVE document: format is ${JSON.stringify(d.format)}, expected "NVD_CVE"`);
    if (d.version !== undefined && !String(d.version).startsWith("2.")) this.fail(`NVD format version ${JSON.stringify(d.version)} is not 2.x`);
    return d;
  }
}

/** Gzip's magic number: a file is gunzipped by its content, not its name. */
function isGzip(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const b = Buffer.alloc(2);
    return fs.readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Stream the CVE records of one NVD 2.0 file (`.json` or gzip, feed or API 2.0 page) to
 * `onCve`, validating as it goes. Errors name the file. `onBytes` reports bytes read from disk.
 *
 * @example await readFeed("nvdcve-2.0-2024.json.gz", (cve) => console.log(cve.id))
 */
export async function readFeed(file: string, onCve: (cve: NvdCve) => void, onBytes?: (bytesRead: number) => void): Promise<{ cves: number; document: Record<string, unknown> }> {
  let gz: boolean;
  try {
    gz = isGzip(file);
  } catch (e) {
    throw new CongruentError("E_VULNSCAN_INPUT", `cannot read ${file}: ${(e as Error).message}`);
  }
  const splitter = new FeedSplitter(file, (text, index) => {
    let el: { cve?: NvdCve };
    try {
      el = JSON.parse(text) as { cve?: NvdCve };
    } catch (e) {
      throw new CongruentError("E_VULNSCAN_INPUT", `${file}: vulnerabilities[${index}] is not valid JSON: ${(e as Error).message}`);
    }
    const cve = el.cve;
    if (typeof cve !== "object" || cve === null || typeof cve.id !== "string" || !/^CVE-\d{4}-\d+$/.test(cve.id)) {
      throw new CongruentError("E_VULNSCAN_INPUT", `${file}: vulnerabilities[${index}] has no cve.id: not NVD 2.0 JSON`);
    }
    if (typeof cve.lastModified !== "string") throw new CongruentError("E_VULNSCAN_INPUT", `${file}: ${cve.id} has no lastModified`);
    if (cve.configurations !== undefined && !Array.isArray(cve.configurations)) throw new CongruentError("E_VULNSCAN_INPUT", `${file}: ${cve.id}: configurations is not a list`);
    onCve(cve);
  });
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = gz ? input.pipe(createGunzip({ chunkSize: 1 << 20 })) : input;
  if (gz) input.on("error", (e) => stream.destroy(e));
  try {
    for await (const chunk of stream) {
      splitter.push(chunk as Buffer);
      onBytes?.(input.bytesRead);
    }
  } catch (e) {
    input.destroy();
    stream.destroy();
    if (e instanceof CongruentError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (gz && err.code === "Z_BUF_ERROR") throw new CongruentError("E_VULNSCAN_INPUT", `${file}: truncated gzip (unexpected end of file)`);
    if (gz && typeof err.code === "string" && err.code.startsWith("Z_")) throw new CongruentError("E_VULNSCAN_INPUT", `${file}: corrupt gzip (${err.message})`);
    throw new CongruentError("E_VULNSCAN_INPUT", `cannot read ${file}: ${err.message}`);
  }
  const document = splitter.end();
  return { cves: splitter.count, document };
}
