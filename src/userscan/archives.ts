import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import type yauzl from "yauzl";
import { StreamScanner, type RefPattern } from "./scan.js";

/** True if `head` starts with gzip's magic bytes (1f 8b, method 8 = deflate). */
export function isGzip(head: Buffer, length: number): boolean {
  return length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08;
}

/** A sink feeding every chunk to `scanner`. */
function sink(scanner: StreamScanner): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      scanner.push(chunk);
      done();
    },
  });
}

/**
 * References in the decompressed contents of a gzip file (concatenated members too), streamed:
 * a large .gz is never held in memory whole. Returns the base names and the bytes inflated.
 *
 * @example await scanGzip(refPattern("/nix/store"), "/home/alice/build.log.gz")
 */
export async function scanGzip(pattern: RefPattern, file: string): Promise<ArchiveScan> {
  const scanner = new StreamScanner(pattern);
  let error: string | undefined;
  try {
    await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 18 }), sink(scanner));
  } catch (e) {
    // A truncated or damaged .gz: what was inflated before the damage still counts.
    error = `gzip: ${(e as Error).message}`;
  }
  return { refs: scanner.end(), bytes: scanner.bytes, error };
}

/** References found in an archive's contents; `error` if it could be read only in part. */
export interface ArchiveScan {
  refs: Set<string>;
  bytes: number;
  error?: string | undefined;
}

/**
 * References in every member of a zip archive (zip, jar, whl, egg), each member streamed and
 * inflated on its own. Nested archives are not opened (their stored bytes are still scanned as
 * part of the outer file).
 *
 * @example await scanZip(refPattern("/nix/store"), "/home/alice/venv/app-1.0-py3-none-any.whl")
 */
export async function scanZip(pattern: RefPattern, file: string): Promise<ArchiveScan> {
  const refs = new Set<string>();
  let bytes = 0;
  let zip: yauzl.ZipFile;
  try {
    // Loaded on the first archive only: most scans never open one, and start-up time counts.
    const { default: lib } = await import("yauzl");
    zip = await lib.openPromise(file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true });
  } catch (e) {
    return { refs, bytes, error: `zip: ${(e as Error).message}` };
  }
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on("error", reject);
      zip.on("end", () => resolve());
      zip.on("entry", (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith("/")) return zip.readEntry();
        zip.openReadStream(entry, (err, stream) => {
          if (err) return reject(err);
          const scanner = new StreamScanner(pattern);
          pipeline(stream, sink(scanner)).then(() => {
            for (const r of scanner.end()) refs.add(r);
            bytes += scanner.bytes;
            zip.readEntry();
          }, reject);
        });
      });
      zip.readEntry();
    });
  } catch (e) {
    return { refs, bytes, error: `zip: ${(e as Error).message}` };
  } finally {
    zip.close();
  }
  return { refs, bytes };
}
