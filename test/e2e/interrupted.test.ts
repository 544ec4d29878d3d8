import { afterAll, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makePlan } from "../../src/activation/plan.js";
import { writeJournal } from "../../src/activation/journal.js";
import { readSystem } from "../../src/generation/metadata.js";
import { addGeneration } from "../../src/store/profiles.js";
import { cli, cliJson, freePort, httpGet, tempDir, vhost, writeHost, writeSnippet } from "../helpers.js";

describe("an activation killed half-way is finished by the next run", () => {
  const root = tempDir();
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  it("resumes the journal, then flips the profile: the host ends on the complete new generation", async () => {
    const port = await freePort();
    const host = writeHost(root, { name: "web1", roles: ["webgateway"] });
    const args = ["--host", host, "--local", local, "--state", state];
    writeSnippet(local, "nginx", "site.conf", vhost(port, "old"));
    const first = await cliJson<{ generation: string }>(["switch", ...args]);

    // What a run killed right after writing its journal leaves behind: a new profile link
    // (not current), the journal, and nothing executed.
    writeSnippet(local, "nginx", "site.conf", vhost(port, "new"));
    const next = (await cliJson<{ generation: string }>(["build", ...args])).generation;
    const { number } = await addGeneration(state, next);
    const running = new Map([["nginx", { name: "nginx", state: "running" as const, pid: 1 }]]);
    const steps = makePlan(readSystem(first.generation).components, readSystem(next).components, running).map((s) => ({ ...s, done: false }));
    writeJournal(state, { target: next, previous: first.generation, generationNumber: number, steps });
    expect((await cliJson<{ generation: string }>(["status", "--state", state])).generation).toBe(first.generation);
    expect((await httpGet(port)).body).toBe("old\n");

    const r = await cli(["switch", ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`finishing an interrupted activation of ${next}`);
    expect((await cliJson<{ generation: string }>(["status", "--state", state])).generation).toBe(next);
    expect((await httpGet(port)).body).toBe("new\n");
    expect(existsSync(path.join(state, "activation", "pending.json"))).toBe(false);
  });

  it("a lock left by a killed run is taken over; a live one is refused", async () => {
    const host = path.join(root, "host.json");
    writeFileSync(path.join(state, "lock"), "999999999\n");
    expect((await cli(["switch", "--host", host, "--local", local, "--state", state])).code).toBe(0);
    writeFileSync(path.join(state, "lock"), `${process.pid}\n`);
    const r = await cli(["switch", "--host", host, "--local", local, "--state", state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`held by running congruent process ${process.pid}`);
  });
});
