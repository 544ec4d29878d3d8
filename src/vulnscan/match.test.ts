import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openIndex, type IndexDb } from "./index-db.js";
import { entryCovers, Matcher, type Package } from "./match.js";
import { importNvd } from "./nvd-import.js";

const SAMPLE = path.resolve(import.meta.dirname, "../../test/fixtures/nvd-sample/nvdcve-2.0-sample.json");
const FIXTURE = path.resolve(import.meta.dirname, "../../test/fixtures/nvd/advisories.json");

function pkg(name: string, patched: string[] = []): Package {
  const m = /^(.*?)-(\d.*)$/.exec(name)!;
  return { name, pname: m[1]!, version: m[2]!, path: `/nix/store/00000000000000000000000000000000-${name}`, patched };
}

describe("matching", () => {
  let db: IndexDb;
  let matcher: Matcher;
  const ids = (name: string, patched?: string[]) => matcher.match(pkg(name, patched)).map((a) => a.id);

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vulnscan-match-"));
    await importNvd([SAMPLE, FIXTURE], { cacheDir: dir });
    db = openIndex(dir);
    matcher = new Matcher(db);
  });
  afterAll(() => db.close());

  it("compares ranges with Nix's order and trailing-zero normalisation", () => {
    const e = { version: "*", upd: "*", start_incl: "3.0.0", start_excl: null, end_incl: null, end_excl: "3.0.7" };
    expect(entryCovers(e, "3.0.6").hit).toBe(true);
    expect(entryCovers(e, "3.0").hit).toBe(true);
    expect(entryCovers(e, "3.0.7").hit).toBe(false);
    expect(entryCovers(e, "2.9.9").hit).toBe(false);
    const upto = { version: "*", upd: "*", start_incl: null, start_excl: null, end_incl: "153.0", end_excl: null };
    expect(entryCovers(upto, "153.0.0").hit).toBe(true);
    expect(entryCovers(upto, "153.0.1").hit).toBe(false);
    expect(entryCovers({ version: "1.9.5", upd: "patch1", start_incl: null, start_excl: null, end_incl: null, end_excl: null }, "1.9.5p1").hit).toBe(true);
    expect(entryCovers({ version: "-", upd: "*", start_incl: null, start_excl: null, end_incl: null, end_excl: null }, "2.38")).toEqual({ hit: true, allVersions: true });
  });

  it("finds real CVEs in affected versions and not in fixed ones", () => {
    expect(ids("openssl-1.0.1f")).toContain("CVE-2014-0160");
    expect(ids("openssl-1.0.1g")).not.toContain("CVE-2014-0160");
    expect(ids("openssl-3.0.6")).toContain("CVE-2022-3602");
    expect(ids("openssl-3.0.7")).not.toContain("CVE-2022-3602");
    expect(ids("openssl-1.1.1s")).not.toContain("CVE-2022-3602");
    expect(ids("xz-5.6.0")).toEqual(["CVE-2024-3094"]);
    expect(ids("xz-5.4.6")).toEqual([]);
    expect(ids("sudo-1.9.5p1")).toContain("CVE-2021-3156");
    expect(ids("sudo-1.9.5p2")).toEqual([]);
  });

  it("is vendor-aware: the Jenkins git plugin is not git", () => {
    expect(ids("git-2.39.0")).toContain("CVE-2022-23521");
    expect(ids("git-2.39.0")).not.toContain("CVE-2022-36882");
    expect(ids("git-2.39.1")).not.toContain("CVE-2022-23521");
    // Without the override, the data decides: git-scm has the most CVEs named "git", and a
    // vendor "git" is named like the product; jenkins is neither.
    const bare = new Matcher(db, { packages: {}, vendors: {} });
    expect(bare.chooseVendors("git")).toEqual(new Set(["git-scm", "git"]));
    expect(bare.match(pkg("git-2.39.0")).map((a) => a.id)).not.toContain("CVE-2022-36882");
  });

  it("reports all-versions CVEs, marked", () => {
    const a = matcher.match(pkg("glibc-2.38")).find((x) => x.id === "CVE-2019-1010022");
    expect(a).toMatchObject({ allVersions: true, cvss: { score: 9.8, version: "3.0" } });
  });

  it("honours AND configurations: Tomcat on (possibly) Windows", () => {
    expect(ids("tomcat-9.0.17")).toEqual(["CVE-2019-0232"]);
    expect(ids("tomcat-9.0.19")).toEqual([]);
    // Heartbleed's AND configurations pair firmware with hardware: no application there.
    expect(ids("application_processing_engine_firmware-2.0")).toEqual([]);
  });

  it("leaves out CVEs the derivation's patches fix", () => {
    expect(ids("openssl-3.0.6", ["CVE-2022-3602"])).not.toContain("CVE-2022-3602");
  });

  it("sorts by score, v3.1 before 3.0 before 2", () => {
    const scores = matcher.match(pkg("python3-3.8.0")).map((a) => a.cvss?.score ?? 0);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });
});
