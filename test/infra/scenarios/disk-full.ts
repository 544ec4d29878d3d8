import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { readInfo } from "../../../src/store/engines/embedded/metadata.js";
import { narDigest, readTree } from "../../../src/store/nar.js";
import { nixBase32Encode } from "../../../src/store/nix-base32.js";
import { SMALL_STATE_MIB, type Fleet } from "../support/fleet.js";
import type { FleetHost } from "../support/host.js";
import type { Row } from "../support/ledger.js";
import { get } from "../support/probes.js";
import { Scenario } from "../support/scenario.js";

/** Store entries that are not complete, registered paths whose contents match their recorded hash. */
function partialStorePaths(host: FleetHost): string[] {
  const store = path.join(host.stateDir, "store");
  const info = path.join(host.stateDir, "db", "info");
  return readdirSync(store).flatMap((name) => {
    const p = path.join(store, name);
    if (name.startsWith(".tmp-")) return [`${name} (a temp entry)`];
    const recorded = readInfo(info, p);
    if (!recorded) return [`${name} (not registered)`];
    const actual = `sha256:${nixBase32Encode(narDigest(readTree(p)).hash)}`;
    return actual === recorded.narHash ? [] : [`${name} (contents ${actual}, recorded ${recorded.narHash})`];
  });
}

/** Temp files and scratch a failed write left behind (in the store's metadata, the build's scratch). */
function halfWritten(host: FleetHost): string[] {
  return [path.join(host.stateDir, "db", "info"), path.join(host.stateDir, "tmp")].flatMap((dir) => readdirSafe(dir).map((name) => path.join(dir, name))).filter((p) => /\/(\.tmp-|validate-)/.test(p));
}

/** Fill the file system of `dir` to the last block with one file; returns its size. */
function fill(file: string): number {
  const fd = openSync(file, "a");
  let written = 0;
  try {
    for (const chunk of [1 << 20, 4096, 512]) {
      const buffer = Buffer.alloc(chunk, 0x78);
      for (;;) {
        try {
          written += writeSync(fd, buffer);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** The command lines of a process's children. */
function childCommands(pid: number): string[] {
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
  return readdirSafe(`/proc/${pid}/task`).flatMap((task) => read(`/proc/${pid}/task/${task}/children`).trim().split(/\s+/).filter(Boolean)).map((c) => read(`/proc/${c}/cmdline`).replaceAll("\0", " "));
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * 6. The host's state file system (a small tmpfs) fills up in the middle of a build: the agent is
 * held (SIGSTOP) while `nginx -t` checks the new configuration, everything left is taken, and it
 * goes on (SIGCONT) into writing the store. No partial store path, the old generation serves on,
 * the report names the full disk; once space is freed, the next run succeeds.
 */
export async function diskFull(fleet: Fleet, rows: Row[]): Promise<void> {
  const s = new Scenario(fleet, "6. the state file system fills up during a build", rows);
  const host = fleet.hosts.find((h) => fleet.spec(h.name).smallState)!;
  await fleet.timer(host.name).pause();
  const generation = (await host.status()).generation;
  const serving = (await get(host.address)).body;
  // A larger site: a customer's long list of names (1.5 MiB).
  const names = Array.from({ length: 30_000 }, (_, i) => `    # alias shop-${i}.example.com for the marketing campaign of week ${i % 52}`).join("\n");
  host.writeSite("v6", `${names}\n`);

  const filler = path.join(host.stateDir, "filler");
  try {
    let filled = 0;
    let watcher: NodeJS.Timeout | undefined;
    const failed = await host.run({
      onSpawn: (pid) => {
        watcher = setInterval(() => {
          if (!childCommands(pid).some((c) => c.includes("nginx") && c.includes(" -t "))) return;
          clearInterval(watcher);
          process.kill(pid, "SIGSTOP");
          try {
            filled = fill(filler);
          } finally {
            process.kill(pid, "SIGCONT");
          }
        }, 1);
      },
    });
    clearInterval(watcher);
    expect(filled, "the file system was filled while nginx -t ran").toBeGreaterThan(0);
    expect(failed.out?.report, failed.stderr).toMatchObject({ result: "failed", error: expect.stringMatching(/no space left on device.*the file system of \S+ is full/) });
    expect(failed.out?.delivered).toBe(true);
    expect(partialStorePaths(host)).toEqual([]);
    expect(halfWritten(host)).toEqual([]);
    expect((await host.status()).generation).toBe(generation);
    expect((await get(host.address)).body).toBe(serving);
  } finally {
    rmSync(filler, { force: true });
  }
  const next = await host.run();
  expect(next.out?.report, next.stderr).toMatchObject({ result: "switched" });
  expect((await get(host.address)).body).toBe(`${host.name} v6\n`);
  expect(partialStorePaths(host)).toEqual([]);
  await s.end({ faults: `${host.name}'s state file system (tmpfs, ${SMALL_STATE_MIB} MiB) filled up during a build` });
}
