import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, utimesSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EmbeddedStore } from "../store/engines/embedded/index.js";
import { dir, file, symlink } from "../store/tree.js";
import { importNvd } from "../vulnscan/nvd-import.js";
import { indexFile } from "../vulnscan/paths.js";
import { exposure } from "./exposure.js";

const SAMPLE = path.resolve(import.meta.dirname, "../../test/fixtures/nvd-sample/nvdcve-2.0-sample.json");

describe("the agent's vulnscan counts", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "congruent-exposure-"));
  const cache = path.join(root, "cache");
  const saved = process.env.CONGRUENT_VULNSCAN_CACHE;
  afterEach(() => {
    if (saved === undefined) delete process.env.CONGRUENT_VULNSCAN_CACHE;
    else process.env.CONGRUENT_VULNSCAN_CACHE = saved;
  });

  it("reports nothing where the host has no index", async () => {
    process.env.CONGRUENT_VULNSCAN_CACHE = path.join(root, "none");
    expect(await exposure(root, "/nowhere", undefined)).toBeUndefined();
  });

  it("counts the CVEs of a generation's closure, and scans again only when the index changes", async () => {
    process.env.CONGRUENT_VULNSCAN_CACHE = cache;
    await importNvd([SAMPLE], { cacheDir: cache });
    const state = path.join(root, "state");
    const store = new EmbeddedStore({ stateDir: state });
    const openssl = await store.addTree("openssl-1.0.1f", dir({ lib: dir({ "libssl.so": file("x") }) }), []);
    const system = await store.addTree("system-web1", dir({ openssl: symlink(openssl) }), [openssl]);
    const first = await exposure(state, system, undefined);
    expect(first).toMatchObject({ generation: system, whitelisted: 0 });
    expect(first!.total).toBeGreaterThan(0); // Heartbleed among them
    // The findings themselves go to the directory too (its CVE views need them, not only counts).
    expect(first!.findings).toHaveLength(first!.total);
    expect(first!.findings).toContainEqual({ cve: "CVE-2014-0160", score: expect.any(Number), package: "openssl-1.0.1f" });
    expect(await exposure(state, system, first)).toBe(first);
    const later = new Date(Date.now() + 5000);
    utimesSync(indexFile(cache), later, later);
    const again = await exposure(state, system, first);
    expect(again).not.toBe(first);
    expect(again!.total).toBe(first!.total);
    rmSync(root, { recursive: true, force: true });
  });
});
