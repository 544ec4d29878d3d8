import type { Command } from "commander";
import { report, stateDir, type StateOptions } from "./common.js";

interface ScanCliOptions extends StateOptions {
  system?: boolean;
  gcRoots?: boolean;
  profile?: string[];
  storeDir?: string;
  whitelist?: string[];
  json?: boolean;
  showWhitelisted?: boolean;
  cacheDir?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const CACHE_HELP = "index and download cache (default: $CONGRUENT_VULNSCAN_CACHE, else ~/.cache/congruent/vulnscan)";

/**
 * `congruent vulnscan [PATH...]` and `congruent vulnscan update --from …`.
 *
 * @example registerVulnscan(program); await program.parseAsync(["node", "congruent", "vulnscan", "--system"]);
 */
export function registerVulnscan(program: Command): void {
  const vulnscan = program
    .command("vulnscan")
    .description("report store paths with known vulnerabilities (CVEs from NVD data imported by 'vulnscan update')")
    .argument("[path...]", "store paths, or links into the store (./result, a profile); their closure is scanned")
    .option("--system", "scan the active generation (<state>/profiles/system) and its closure")
    .option("--gc-roots", "scan everything the store's gc roots reach")
    .option("--profile <profile>", "scan a profile: a name under <state>/profiles (system, per-user/<user>/profile) or a path (repeatable)", collect)
    .option("--store-dir <dir>", "the store the paths are in (default: /nix/store for paths there, else <state>/store); /nix/store is read with nix-store -qR")
    .option("--whitelist <file>", "vulnix-format TOML whitelist (repeatable; rules of all files apply)", collect)
    .option("--json", "print a JSON list of {name, pname, version, path, affected_by[], whitelisted[], cvss{}, advisories[]}")
    .option("--show-whitelisted", "also list findings a whitelist hides (and exit 1 if those are all there is)")
    .option("--cache-dir <dir>", CACHE_HELP)
    .option("--state <dir>", "state directory (default: $CONGRUENT_STATE, else /var/lib/congruent)")
    .addHelpText(
      "after",
      `
How it works:
  The store paths to scan are the PATHs given, --system, --profile and
  --gc-roots, plus everything they reference (the references the store
  recorded; on a Nix store, 'nix-store -qR'). Each path is read as
  <pname>-<version> (the version starts at the first '-' followed by a
  digit, as Nix's parseDrvName), or from its .drv when there is one (an
  ATerm parser: nothing is evaluated). Sources and patches (.tar.gz,
  .patch, ...) are skipped. A CVE named in a derivation's patches
  (e.g. CVE-2024-3094.patch) counts as fixed.

  A package matches a CVE when a vulnerable application entry (CPE 2.3) of
  the CVE names its product, by the right vendor, and its version range
  (start/end, including/excluding; Nix's version order, trailing zeros
  ignored: 153.0 = 153.0.0) covers the version. Vendor-aware: git is
  git-scm's git, never jenkins' git plugin. AND configurations are
  honoured; the platform half (an OS, hardware) counts as possibly there.
  CVEs that name no version at all are reported and marked "all versions".

Whitelist (vulnix's format):
  ["openssl-1.0.1f"]             # this version
  cve = ["CVE-2014-0160"]        # only these CVEs (omit: all of them)
  until = "2025-06-30"           # inactive from this day on
  issue_url = "https://tracker.example/123"
  comment = "fixed by a backport"
  ["openssl"]                    # every version
  ["*"]                          # every package (with cve = [...])

Exit status (as vulnix):
  0  nothing found
  1  only whitelisted findings, with --show-whitelisted
  2  unwhitelisted findings
  3  nothing to scan
  1  with a one-line error, on errors (bad whitelist, no index, ...)

Examples:
  $ congruent vulnscan update --from /srv/nvd/
  $ congruent vulnscan --system
  $ congruent vulnscan --whitelist /etc/congruent/vulnscan.toml --json /nix/store/...-nginx-1.24.0
  $ congruent vulnscan --gc-roots --show-whitelisted`,
    )
    .action(async (paths: string[], opts: ScanCliOptions) => {
      const [{ scan }, { toJson, toText, exitCode }] = await Promise.all([import("../vulnscan/scan.js"), import("../vulnscan/report.js")]);
      if (paths.length === 0 && !opts.system && !opts.gcRoots && !(opts.profile?.length)) {
        process.stderr.write("congruent vulnscan: nothing to scan (give PATHs, --system, --gc-roots or --profile)\n");
        process.exitCode = 3;
        return;
      }
      const r = await scan({
        paths,
        stateDir: stateDir(opts),
        ...(opts.system ? { system: true } : {}),
        ...(opts.gcRoots ? { gcRoots: true } : {}),
        ...(opts.profile ? { profiles: opts.profile } : {}),
        ...(opts.storeDir ? { storeDir: opts.storeDir } : {}),
        ...(opts.whitelist ? { whitelists: opts.whitelist } : {}),
        ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      });
      for (const w of r.warnings) process.stderr.write(`congruent vulnscan: warning: ${w}\n`);
      const show = Boolean(opts.showWhitelisted);
      report(opts.json, toJson(r.results, show), () => toText(r.results, { showWhitelisted: show, scanned: r.scanned }));
      process.exitCode = exitCode(r.results, { scanned: r.scanned, showWhitelisted: show });
    });

  vulnscan
    .command("update")
    .description("import NVD 2.0 CVE data into the local index (incremental: a CVE modified later replaces the earlier record)")
    .requiredOption("--from <source>", "NVD 2.0 feed file (.json or .json.gz), API 2.0 response page, directory of them, or http(s) URL (repeatable)", collect)
    .option("--cache-dir <dir>", CACHE_HELP)
    .option("--json", "print {sources, read, added, replaced, unchanged, total} as JSON")
    .addHelpText(
      "after",
      `
Reads the NVD's JSON 2.0 data: the yearly feeds (nvdcve-2.0-2002.json.gz ...
nvdcve-2.0-<year>.json.gz), the 'modified' and 'recent' feeds, and NVD API 2.0
response pages; gzip is recognised by content. All years are imported.
Everything given is imported in one transaction: if any file is truncated or
not NVD 2.0 JSON, the error names it and the index stays as it was.

A URL is downloaded into <cache-dir>/downloads with a conditional request
(If-None-Match: the ETag of the last download), so re-running an update whose
feeds did not change transfers nothing and imports nothing.

Examples:
  $ congruent vulnscan update --from ~/nvd/            # every *.json[.gz] below
  $ congruent vulnscan update --from https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-modified.json.gz
  $ congruent vulnscan update --from page-0.json --from page-1.json --json`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      // --cache-dir may be written before or after "update": take it from either level.
      const opts = cmd.optsWithGlobals<{ from: string[]; cacheDir?: string; json?: boolean }>();
      const { importNvd, cacheDir } = await import("../vulnscan/index.js");
      const dir = cacheDir(opts.cacheDir);
      const bar = process.stderr.isTTY && !opts.json ? await progressBar() : undefined;
      try {
        const r = await importNvd(opts.from, {
          cacheDir: dir,
          ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
        });
        bar?.stop();
        report(opts.json, r, () =>
          [
            ...r.sources.map((s) => `${s.source}: ${s.notModified ? "not modified" : `${s.cves} CVE records`}`),
            `${r.added} added, ${r.replaced} replaced by newer records, ${r.unchanged} unchanged; the index holds ${r.total.cves} CVEs, ${r.total.cpeMatches} CPE matches (${dir})`,
          ].join("\n"),
        );
      } catch (e) {
        bar?.stop();
        throw e;
      }
    });
}

/** A progress bar on stderr, in megabytes read, for interactive runs only. */
async function progressBar() {
  const { SingleBar, Presets } = await import("cli-progress");
  const bar = new SingleBar(
    { format: "importing {bar} {percentage}% | {mb}/{totalMb} MB | {cves} CVEs | {source}", stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(p: { source: string; bytesRead: number; bytesTotal: number; cvesRead: number }) {
      const payload = { mb: (p.bytesRead / 1e6).toFixed(1), totalMb: (p.bytesTotal / 1e6).toFixed(1), cves: p.cvesRead, source: p.source };
      if (!started) {
        bar.start(Math.max(p.bytesTotal, 1), p.bytesRead, payload);
        started = true;
      } else bar.update(p.bytesRead, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
