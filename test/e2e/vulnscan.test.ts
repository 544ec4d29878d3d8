import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { describeUnless } from "../support/skip.js";
import { registerVulnscan } from "../../src/cli/vulnscan.js";
import { EmbeddedStore } from "../../src/store/engines/embedded/index.js";
import { NixStore } from "../../src/store/engines/nix/index.js";
import { addGeneration, setCurrent } from "../../src/store/profiles.js";
import { indexStats, openIndex } from "../../src/vulnscan/index.js";
import type { JsonEntry } from "../../src/vulnscan/report.js";

const SAMPLE_DIR = path.resolve(import.meta.dirname, "../fixtures/nvd-sample");
const SAMPLE = path.join(SAMPLE_DIR, "nvdcve-2.0-sample.json");
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/nvd");
const RUNNER = path.resolve(import.meta.dirname, "vulnscan-cli.ts");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vulnscan-e2e-"));
const cache = path.join(tmp, "cache");
const state = path.join(tmp, "state");
const storeDir = path.join(state, "store");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `congruent vulnscan …` in this process (registerVulnscan, as main.ts wires it): fast. */
async function vulnscan(...args: string[]): Promise<Run> {
  const program = new Command("congruent").exitOverride();
  registerVulnscan(program);
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((stderr += String(s)), true));
  process.exitCode = undefined;
  let code: number;
  try {
    await program.parseAsync(["node", "congruent", "vulnscan", ...args, "--cache-dir", cache]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    stderr += `congruent: ${(e as Error).message}\n`;
    code = 1;
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
  return { code, stdout, stderr };
}

async function scanJson(...args: string[]): Promise<{ code: number; entries: JsonEntry[] }> {
  const r = await vulnscan(...args, "--json");
  if (r.code === 1 && r.stdout === "") throw new Error(r.stderr);
  return { code: r.code, entries: JSON.parse(r.stdout) as JsonEntry[] };
}

/** A directory named like a store path of `name` (any 32 base32 chars), not registered. */
let n = 0;
function fakePath(name: string): string {
  const hash = (String(n++).padStart(4, "0") + "0".repeat(28)).replace(/[eotu]/g, "0");
  const p = path.join(storeDir, `${hash}-${name}`);
  fs.mkdirSync(p, { recursive: true });
  return p;
}

const file = (contents: string) => ({ type: "regular" as const, executable: false, contents: Buffer.from(contents) });

function cveCount(): number {
  const db = openIndex(cache);
  try {
    return indexStats(db).cves;
  } finally {
    db.close();
  }
}

describe("vulnscan update", () => {
  it("imports the real sample, json and json.gz, and the fixtures", async () => {
    const a = await vulnscan("update", "--from", SAMPLE, "--json");
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ read: 30, added: 30, total: { cves: 30 } });
    const b = JSON.parse((await vulnscan("update", "--from", `${SAMPLE}.gz`, "--json")).stdout);
    expect(b).toMatchObject({ read: 30, added: 0, unchanged: 30 });
    const c = await vulnscan("update", "--from", FIXTURES);
    expect(c.stdout).toMatch(/5 added, 0 replaced by newer records, 0 unchanged; the index holds 35 CVEs/);
  });

  it("replaces a record by a later one, never by an earlier one", async () => {
    const doc = JSON.parse(fs.readFileSync(path.join(FIXTURES, "advisories.json"), "utf8"));
    const record = doc.vulnerabilities.find((v: { cve: { id: string } }) => v.cve.id === "CVE-2022-3602");
    // Test-only edit: a "later analysis" extends the range to 3.0.8.
    const later = structuredClone(record);
    later.cve.lastModified = "2099-01-01T00:00:00.000";
    later.cve.configurations[0].nodes[0].cpeMatch[0].versionEndExcluding = "3.0.8";
    const earlier = structuredClone(record);
    earlier.cve.lastModified = "2001-01-01T00:00:00.000";
    earlier.cve.configurations = [];
    const feed = (v: unknown) => JSON.stringify({ format: "NVD_CVE", version: "2.0", vulnerabilities: [v] });
    fs.writeFileSync(path.join(tmp, "later.json"), feed(later));
    fs.writeFileSync(path.join(tmp, "earlier.json"), feed(earlier));
    const p = fakePath("openssl-3.0.7");
    const ids = async () => (await scanJson(p)).entries[0]?.affected_by ?? [];
    expect(await ids()).not.toContain("CVE-2022-3602");
    expect(JSON.parse((await vulnscan("update", "--from", path.join(tmp, "later.json"), "--from", path.join(tmp, "earlier.json"), "--json")).stdout)).toMatchObject({ replaced: 1, unchanged: 1 });
    expect(await ids()).toContain("CVE-2022-3602");
    // Put the real record back for the other tests.
    fs.writeFileSync(path.join(tmp, "real.json"), feed({ ...record, cve: { ...record.cve, lastModified: "2099-01-02T00:00:00.000" } }));
    await vulnscan("update", "--from", path.join(tmp, "real.json"));
    expect(await ids()).not.toContain("CVE-2022-3602");
  });

  it("rejects bad input naming the file, and leaves the index untouched", async () => {
    const before = cveCount();
    const gz = fs.readFileSync(`${SAMPLE}.gz`);
    const truncated = path.join(tmp, "nvdcve-2.0-2024.json.gz");
    fs.writeFileSync(truncated, gz.subarray(0, gz.length >> 1));
    const other = path.join(tmp, "package.json");
    fs.writeFileSync(other, JSON.stringify({ name: "x", dependencies: {} }));
    const fresh = path.join(tmp, "fresh.json");
    fs.writeFileSync(fresh, JSON.stringify({ format: "NVD_CVE", version: "2.0", vulnerabilities: [{ cve: { id: "CVE-2099-0001", lastModified: "2099-01-01T00:00:00.000" } }] }));

    const t = await vulnscan("update", "--from", fresh, "--from", truncated);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain(`${truncated}: truncated gzip`);
    const o = await vulnscan("update", "--from", fresh, "--from", other);
    expect(o.stderr).toContain(`${other}: not NVD 2.0 JSON: no "vulnerabilities" array`);
    // fresh.json came first and was valid: rolled back with the rest.
    expect(cveCount()).toBe(before);
    const missing = await vulnscan("update", "--from", path.join(tmp, "nope.json"));
    expect(missing.stderr).toContain("nope.json: no such file or directory");
  });

  it("fetches a URL conditionally (ETag → 304) and imports only when it changed", async () => {
    const body = gzipSync(fs.readFileSync(SAMPLE));
    const seen: (string | undefined)[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(req.headers["if-none-match"]);
      if (req.headers["if-none-match"] === '"v1"') return res.writeHead(304).end();
      res.writeHead(200, { etag: '"v1"', "content-type": "application/gzip" }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/nvdcve-2.0-modified.json.gz`;
    try {
      const first = JSON.parse((await vulnscan("update", "--from", url, "--json")).stdout);
      expect(first.sources).toEqual([{ source: url, cves: 30, notModified: false }]);
      const second = JSON.parse((await vulnscan("update", "--from", url, "--json")).stdout);
      expect(second.sources).toEqual([{ source: url, cves: 0, notModified: true }]);
      expect(second.read).toBe(0);
      expect(seen).toEqual([undefined, '"v1"']);
      const down = await vulnscan("update", "--from", url.replace(/:\d+\//, ":1/"));
      expect(down.stderr).toMatch(/127\.0\.0\.1:1\/nvdcve-2\.0-modified\.json\.gz: cannot fetch/);
    } finally {
      server.close();
    }
  });
});

describe("vulnscan", () => {
  it("finds real CVEs in affected versions, not in fixed ones", async () => {
    const paths = ["openssl-1.0.1f", "openssl-1.0.1g", "nginx-1.20.0", "nginx-1.25.3", "redis-6.2.6", "sudo-1.9.5p1", "sudo-1.9.5p2", "xz-5.6.0", "xz-5.4.6", "git-2.39.0", "git-2.45.2", "tomcat-9.0.17", "tomcat-9.0.19", "glibc-2.38", "openssl-3.0.6", "openssl-3.0.7"].map(fakePath);
    const { code, entries } = await scanJson(...paths);
    expect(code).toBe(2);
    const by = new Map(entries.map((e) => [e.name, e]));
    expect(by.get("openssl-1.0.1f")?.affected_by).toContain("CVE-2014-0160");
    expect(by.get("openssl-1.0.1g")?.affected_by ?? []).not.toContain("CVE-2014-0160");
    expect(by.get("openssl-3.0.6")?.affected_by).toContain("CVE-2022-3602");
    expect(by.get("openssl-3.0.7")?.affected_by ?? []).not.toContain("CVE-2022-3602");
    expect(by.get("nginx-1.20.0")?.affected_by).toEqual(["CVE-2022-41741", "CVE-2021-23017"]);
    expect(by.has("nginx-1.25.3")).toBe(false);
    expect(by.get("redis-6.2.6")?.affected_by).toEqual(["CVE-2022-0543", "CVE-2023-28856"]);
    expect(by.get("sudo-1.9.5p1")?.affected_by).toEqual(["CVE-2021-3156"]);
    expect(by.has("sudo-1.9.5p2")).toBe(false);
    expect(by.get("xz-5.6.0")).toMatchObject({ pname: "xz", version: "5.6.0", affected_by: ["CVE-2024-3094"], whitelisted: [], cvss: { "CVE-2024-3094": 10 } });
    expect(by.has("xz-5.4.6")).toBe(false);
    // git-scm's CVE yes, the Jenkins Git plugin's no.
    expect(by.get("git-2.39.0")?.affected_by).toContain("CVE-2022-23521");
    expect(by.get("git-2.39.0")?.affected_by).not.toContain("CVE-2022-36882");
    expect(by.get("tomcat-9.0.17")?.affected_by).toEqual(["CVE-2019-0232"]);
    expect(by.has("tomcat-9.0.19")).toBe(false);
    expect(by.get("glibc-2.38")?.advisories.find((a) => a.id === "CVE-2019-1010022")).toMatchObject({ allVersions: true });
    expect(by.get("glibc-2.38")?.advisories.find((a) => a.id === "CVE-2023-4911")).toMatchObject({ allVersions: false });
  });

  it("prints text grouped by package, highest score first, with NVD links", async () => {
    const r = await vulnscan(fakePath("redis-6.2.6"));
    expect(r.code).toBe(2);
    const lines = r.stdout.split("\n");
    const i = lines.indexOf("redis-6.2.6");
    expect(lines.slice(i + 3, i + 5)).toEqual([
      "  10.0 (v3.1)  https://nvd.nist.gov/vuln/detail/CVE-2022-0543  (all versions)",
      "   6.5 (v3.1)  https://nvd.nist.gov/vuln/detail/CVE-2023-28856",
    ]);
  });

  it("follows recorded references from the active generation (--system), a profile and gc roots", async () => {
    const store = new EmbeddedStore({ stateDir: state });
    const openssl = await store.addTree("openssl-1.0.1f", file("libssl"), []);
    const xz = await store.addTree("xz-5.4.6", file("liblzma"), []);
    const nginx = await store.addTree("nginx-1.20.0", file("nginx"), [openssl]);
    const src = await store.addTree("nginx-1.20.0.tar.gz", file("tarball"), []);
    const patch = await store.addTree("CVE-2021-23017.patch", file("patch"), []);
    const system = await store.addTree("system-web1", file("gen"), [nginx, xz, src, patch]);
    setCurrent(state, addGeneration(state, system).number);
    const { code, entries } = await scanJson("--system", "--state", state);
    expect(code).toBe(2);
    expect(entries.map((e) => e.name).sort()).toEqual(["nginx-1.20.0", "openssl-1.0.1f"]);
    expect((await scanJson("--profile", "system", "--state", state)).entries).toHaveLength(2);
    expect((await scanJson("--gc-roots", "--state", state)).entries).toHaveLength(2);
    expect((await scanJson(xz)).code).toBe(0);
  });

  it("does not report a CVE the derivation's patches fix", async () => {
    const out = fakePath("openssl-3.0.6");
    const drv = path.join(storeDir, "1".repeat(32) + "-openssl-3.0.6.drv");
    fs.writeFileSync(
      drv,
      `Derive([("out","${out}","","")],[],[],"x86_64-linux","/bin/sh",[],[("name","openssl-3.0.6"),("patches","${storeDir}/${"2".repeat(32)}-CVE-2022-3602.patch"),("pname","openssl"),("version","3.0.6")])`,
    );
    const [entry] = (await scanJson(drv)).entries;
    expect(entry).toMatchObject({ name: "openssl-3.0.6", path: out });
    expect(entry?.affected_by).toContain("CVE-2023-0286");
    expect(entry?.affected_by).not.toContain("CVE-2022-3602");
  });

  it("hides whitelisted findings until `until` passes; exit 1 with --show-whitelisted", async () => {
    const xz = fakePath("xz-5.6.0");
    const wl = (until: string) => {
      const f = path.join(tmp, `wl-${until}.toml`);
      fs.writeFileSync(f, `["xz-5.6.0"]\ncve = ["CVE-2024-3094"]\nuntil = "${until}"\ncomment = "backdoor removed by patch"\nowner = "ops"\n`);
      return f;
    };
    const hidden = await vulnscan(xz, "--whitelist", wl("2999-01-01"));
    expect(hidden.code).toBe(0);
    expect(hidden.stdout).toContain("1 whitelisted finding hidden");
    expect(hidden.stderr).toContain('unknown key "owner" ignored');
    const shown = await scanJson(xz, "--whitelist", wl("2999-01-01"), "--show-whitelisted");
    expect(shown.code).toBe(1);
    expect(shown.entries[0]).toMatchObject({ affected_by: [], whitelisted: ["CVE-2024-3094"] });
    const expired = await scanJson(xz, "--whitelist", wl("2020-01-01"));
    expect(expired).toMatchObject({ code: 2, entries: [{ affected_by: ["CVE-2024-3094"] }] });
    // Several files merge: a second, empty file changes nothing.
    fs.writeFileSync(path.join(tmp, "empty.toml"), "");
    expect((await vulnscan(xz, "--whitelist", path.join(tmp, "empty.toml"), "--whitelist", wl("2999-01-01"))).code).toBe(0);
  });

  it("stops on a whitelist syntax error, naming the file", async () => {
    const bad = path.join(tmp, "broken.toml");
    fs.writeFileSync(bad, '["xz-5.6.0"\ncve = ["CVE-2024-3094"]\n');
    const r = await vulnscan(fakePath("xz-5.6.0"), "--whitelist", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${bad}:1:\\d+: whitelist is not valid TOML`));
  });

  it("exits 3 when there is nothing to scan", async () => {
    expect((await vulnscan()).code).toBe(3);
    expect((await vulnscan(fakePath("fix-CVE-2024-1.patch"), fakePath("source"))).code).toBe(3);
  });

  it("without an index, says how to make one", async () => {
    const program = new Command("congruent").exitOverride();
    registerVulnscan(program);
    await expect(program.parseAsync(["node", "congruent", "vulnscan", fakePath("xz-5.6.0"), "--cache-dir", path.join(tmp, "none")])).rejects.toThrow(
      /no vulnerability index at .*: run 'congruent vulnscan update --from/,
    );
  });

  it("as a process: exit codes and one-line errors", () => {
    const run = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", RUNNER, "vulnscan", ...args, "--cache-dir", cache], { encoding: "utf8" });
    expect(run([fakePath("xz-5.6.0")]).status).toBe(2);
    expect(run([fakePath("xz-5.4.6")]).status).toBe(0);
    const bad = run(["update", "--from", path.join(tmp, "package.json")]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^congruent: .*package\.json: not NVD 2\.0 JSON/);
  });
});

const hasNix = spawnSync("nix-store", ["--version"]).status === 0;
const noNix = hasNix ? undefined : "nix-store is not installed (apt-get install nix-bin)";

describeUnless(noNix)("vulnscan on a Nix store (nix-store -qR)", () => {
  const nixRoot = path.join(tmp, "nix");
  beforeAll(() => {
    process.env.NIX_CONFIG = "substituters =\nexperimental-features = nix-command";
  });

  it("scans the closure Nix records", async () => {
    const store = new NixStore({ storeUri: nixRoot });
    const zlib = await store.addTree("zlib-1.2.12", file("libz"), []);
    const curl = await store.addTree("curl-7.88.1", file("curl"), [zlib]);
    const program = new Command("congruent").exitOverride();
    registerVulnscan(program);
    process.env.CONGRUENT_NIX_STORE = nixRoot;
    let stdout = "";
    const out = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((stdout += String(s)), true));
    try {
      await program.parseAsync(["node", "congruent", "vulnscan", curl, "--json", "--cache-dir", cache]);
    } finally {
      out.mockRestore();
      delete process.env.CONGRUENT_NIX_STORE;
      process.exitCode = undefined;
    }
    const entries = JSON.parse(stdout) as JsonEntry[];
    expect(entries.map((e) => [e.name, e.affected_by])).toEqual([
      ["curl-7.88.1", ["CVE-2023-27533"]],
      ["zlib-1.2.12", ["CVE-2022-37434"]],
    ]);
  });
});
