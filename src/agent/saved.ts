import { readFileSync, readdirSync, rmSync } from "node:fs";
import { writeFileAtomic } from "../store/atomic.js";
import path from "node:path";
import type { HostConfig, Report } from "../directory/api.js";
import type { Exposure } from "./exposure.js";

/**
 * What the agent keeps between runs under `<state>/agent/`, each file written atomically
 * (temp + rename) so a killed run never leaves half a file:
 * - description.json: the last description fetched, with its ETag (used when the directory is down)
 * - last-run.json: the inputs of the last successful run (ETag, fingerprint) and its generation
 * - release.json: the release the host last applied (releases only move forward)
 * - failed-activation.json: a generation whose activation failed (not retried until inputs change)
 * - outbox/: reports not delivered yet
 */
export interface SavedDescription {
  etag: string;
  config: HostConfig;
  fetchedAt: string;
}

export interface LastRun {
  etag: string;
  fingerprint: string;
  generation: string;
  /** Entries that were deferred: while any wait, the fast path is off. */
  deferred: number;
  /** vulnscan counts of `generation` (absent where the host has no vulnerability index). */
  exposure?: Exposure & { generation: string };
}

/** A generation whose activation failed and was rolled back: not tried again with the same inputs. */
export interface FailedActivation {
  generation: string;
  error: string;
  at: string;
}

export interface AppliedRelease {
  channel: string;
  number: number;
}

export const agentDir = (stateDir: string) => path.join(stateDir, "agent");

const writeAtomic = (file: string, value: unknown) => writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n", 0o600);

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return null;
  }
}

const file = (stateDir: string, name: string) => path.join(agentDir(stateDir), name);

export const saved = {
  description: (s: string) => readJson<SavedDescription>(file(s, "description.json")),
  saveDescription: (s: string, d: SavedDescription) => writeAtomic(file(s, "description.json"), d),
  lastRun: (s: string) => readJson<LastRun>(file(s, "last-run.json")),
  saveLastRun: (s: string, r: LastRun) => writeAtomic(file(s, "last-run.json"), r),
  forgetLastRun: (s: string) => rmSync(file(s, "last-run.json"), { force: true }),
  failed: (s: string) => readJson<FailedActivation>(file(s, "failed-activation.json")),
  saveFailed: (s: string, f: FailedActivation) => writeAtomic(file(s, "failed-activation.json"), f),
  forgetFailed: (s: string) => rmSync(file(s, "failed-activation.json"), { force: true }),
  release: (s: string) => readJson<AppliedRelease>(file(s, "release.json")),
  saveRelease: (s: string, r: AppliedRelease) => writeAtomic(file(s, "release.json"), r),
};

/** Reports that could not be delivered wait here, oldest first, and are sent on a later run. */
export const outbox = {
  put(stateDir: string, report: Report): void {
    writeAtomic(path.join(agentDir(stateDir), "outbox", `${Date.now()}-${process.pid}.json`), report);
  },
  list(stateDir: string): { file: string; report: Report }[] {
    const dir = path.join(agentDir(stateDir), "outbox");
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith(".json")).sort();
    } catch {
      return [];
    }
    return names.flatMap((n) => {
      const report = readJson<Report>(path.join(dir, n));
      return report ? [{ file: path.join(dir, n), report }] : [];
    });
  },
  remove(file: string): void {
    rmSync(file, { force: true });
  },
};
