import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { CongruentError } from "../errors.js";

export interface Fetched {
  url: string;
  /** The cached body on disk (gzip or not, as served). */
  file: string;
  etag?: string;
  /** The server answered 304: the cached body is current. */
  notModified: boolean;
}

interface Meta {
  url: string;
  etag?: string;
  lastModified?: string;
}

/**
 * GET `url` into `<cacheDir>/downloads/`, conditionally: with the ETag (and Last-Modified)
 * of the cached copy, a 304 costs one round trip and no body.
 *
 * @example const f = await fetchCached("https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-modified.json.gz", dir)
 */
export async function fetchCached(url: string, cacheDir: string): Promise<Fetched> {
  const dir = path.join(cacheDir, "downloads");
  fs.mkdirSync(dir, { recursive: true });
  const key = createHash("sha256").update(url).digest("hex").slice(0, 24);
  const body = path.join(dir, `${key}.data`);
  const metaFile = path.join(dir, `${key}.json`);
  let meta: Meta | undefined;
  try {
    meta = fs.existsSync(body) ? (JSON.parse(fs.readFileSync(metaFile, "utf8")) as Meta) : undefined;
  } catch {
    meta = undefined;
  }
  const headers: Record<string, string> = {};
  if (meta?.etag) headers["if-none-match"] = meta.etag;
  if (meta?.lastModified) headers["if-modified-since"] = meta.lastModified;
  let res: Response;
  try {
    res = await fetch(url, { headers });
  } catch (e) {
    const cause = (e as { cause?: Error }).cause;
    throw new CongruentError("E_VULNSCAN_INPUT", `${url}: cannot fetch (${cause?.message ?? (e as Error).message})`);
  }
  if (res.status === 304 && meta) return { url, file: body, etag: meta.etag, notModified: true };
  if (res.status !== 200 || !res.body) throw new CongruentError("E_VULNSCAN_INPUT", `${url}: HTTP ${res.status} ${res.statusText}`);
  const tmp = `${body}.tmp-${randomBytes(6).toString("hex")}`;
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), fs.createWriteStream(tmp));
    fs.renameSync(tmp, body);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new CongruentError("E_VULNSCAN_INPUT", `${url}: download failed (${(e as Error).message})`);
  }
  const next: Meta = { url };
  const etag = res.headers.get("etag");
  const lastModified = res.headers.get("last-modified");
  if (etag) next.etag = etag;
  if (lastModified) next.lastModified = lastModified;
  fs.writeFileSync(metaFile, JSON.stringify(next) + "\n");
  return { url, file: body, etag: next.etag, notModified: false };
}
