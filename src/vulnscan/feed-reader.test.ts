import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { FeedSplitter, readFeed } from "./feed-reader.js";

const doc = JSON.stringify({
  resultsPerPage: 2,
  format: "NVD_CVE",
  version: "2.0",
  vulnerabilities: [
    { cve: { id: "CVE-2024-0001", lastModified: "2024-01-01T00:00:00.000", descriptions: [{ lang: "en", value: 'braces } ] { [ and "quotes" \\ in text' }] } },
    { cve: { id: "CVE-2024-0002", lastModified: "2024-01-02T00:00:00.000" } },
  ],
  timestamp: "2024-01-03T00:00:00.000",
});

function tmp(name: string, data: string | Buffer): string {
  const f = path.join(os.tmpdir(), `vulnscan-feed-${process.pid}-${name}`);
  writeFileSync(f, data);
  return f;
}

describe("NVD 2.0 feed reader", () => {
  it("splits vulnerabilities[] whatever the chunk boundaries", () => {
    for (const size of [1, 2, 3, 7, 64, doc.length]) {
      const seen: string[] = [];
      const s = new FeedSplitter("f", (json) => seen.push((JSON.parse(json) as { cve: { id: string } }).cve.id));
      const buf = Buffer.from(doc);
      for (let i = 0; i < buf.length; i += size) s.push(buf.subarray(i, i + size));
      expect(seen, `chunk size ${size}`).toEqual(["CVE-2024-0001", "CVE-2024-0002"]);
      expect(s.end()).toMatchObject({ format: "NVD_CVE", version: "2.0", vulnerabilities: [], timestamp: "2024-01-03T00:00:00.000" });
    }
  });

  it("reads plain and gzip files alike (gzip by content)", async () => {
    for (const f of [tmp("a.json", doc), tmp("b.json.gz", gzipSync(doc)), tmp("c.json", gzipSync(doc))]) {
      const ids: string[] = [];
      expect((await readFeed(f, (c) => ids.push(c.id))).cves).toBe(2);
      expect(ids).toEqual(["CVE-2024-0001", "CVE-2024-0002"]);
    }
  });

  it("names the file in every error", async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ["trunc.json.gz", gzipSync(doc).subarray(0, 60), /trunc\.json\.gz: truncated gzip/],
      ["trunc.json", doc.slice(0, 150), /trunc\.json: truncated JSON: the document ends inside vulnerabilities\[0\]/],
      ["other.json", JSON.stringify({ items: [1, 2] }), /other\.json: not NVD 2\.0 JSON: no "vulnerabilities" array \(top-level keys: items\)/],
      ["array.json", "[1,2]", /array\.json: not NVD 2\.0 JSON: a JSON object was expected/],
      ["html.json", "<html>", /html\.json: not NVD 2\.0 JSON/],
      ["v11.json", JSON.stringify({ CVE_data_type: "CVE", CVE_Items: [] }), /v11\.json: this is an NVD 1\.1 feed/],
      ["noid.json", JSON.stringify({ vulnerabilities: [{ cve: { lastModified: "x" } }] }), /noid\.json: vulnerabilities\[0\] has no cve\.id/],
      ["fmt.json", JSON.stringify({ format: "NVD_CPE", version: "2.0", vulnerabilities: [] }), /fmt\.json: not an NVD CVE document/],
      ["empty.json", "", /empty\.json: empty file/],
    ];
    for (const [name, data, re] of cases) await expect(readFeed(tmp(name, data), () => {}), name).rejects.toThrow(re);
  });
});
