import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { makePlan } from "../../src/activation/plan.js";
import { readJournal, writeJournal } from "../../src/activation/journal.js";
import { readSystem } from "../../src/generation/metadata.js";
import { linkGeneration, nextGenerationNumber } from "../../src/store/profiles.js";
import { cli, cliJson, freePort, httpGet, tempDir, vhost, writeHost, writeSnippet, type StatusOut, type SwitchOut } from "../helpers.js";

interface Interrupted {
  target: string;
  done: string[];
  left: string[];
}

const REPO = path.resolve(import.meta.dirname, "../..");
const running = new Map([["nginx", { name: "nginx", state: "running" as const, pid: 1 }]]);

/**
 * Leave behind what a run killed right after writing its journal leaves (the generation link
 * made, nothing executed), optionally with the first steps crossed off.
 */
function interruptedSwitchTo(state: string, from: string, to: string, doneSteps = 0): void {
  const number = nextGenerationNumber(state, to);
  linkGeneration(state, number, to);
  const steps = makePlan(readSystem(from).components, readSystem(to).components, running).map((s, i) => ({ ...s, done: i < doneSteps }));
  writeJournal(state, { target: to, previous: from, generationNumber: number, addsGeneration: true, steps });
}

/** Each way an activation can be interrupted or fail, and what the next run must make of it. */
describe("interrupted and failed activations", () => {
  const root = tempDir();
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  let port = 0;
  let first = "";
  const args = () => ["--host", path.join(root, "host.json"), "--local", local, "--state", state];
  const build = async (body: string) => {
    writeSnippet(local, "nginx", "site.conf", vhost(port, body));
    return (await cliJson<{ generation: string }>(["build", ...args()])).generation;
  };
  /** A generation whose nginx cannot bind a second port: free when built, taken when activated. */
  const brokenGeneration = async () => {
    const other = await freePort();
    writeSnippet(local, "nginx", "site.conf", `${vhost(port, "new")}${vhost(other, "other")}`);
    const broken = (await cliJson<{ generation: string }>(["build", ...args()])).generation;
    const taken = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => taken.listen(other, "127.0.0.1", resolve));
    return { broken, release: () => void taken.close() };
  };
  const status = () => cliJson<StatusOut & { interrupted?: Interrupted; pending: unknown[] }>(["status", "--state", state]);
  const generations = () => cliJson<{ number: number; path: string; current: boolean }[]>(["generations", "--state", state]);

  beforeAll(async () => {
    port = await freePort();
    writeHost(root, { name: "web1", roles: ["webgateway"] });
    first = await build("old");
    await cliJson(["switch", ...args()]);
  });
  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  it("status shows an interrupted activation apart: its target, the services done and left", async () => {
    const next = await build("new");
    interruptedSwitchTo(state, first, next);
    const s = await status();
    expect(s.generation).toBe(first);
    expect(s.interrupted).toEqual({ target: next, done: [], left: ["nginx"] });
    expect(s.pending).toEqual([]); // no step pointing backwards, none listed twice
    const text = await cli(["status", "--state", state]);
    expect(text.stdout).toContain(`interrupted activation of ${next}: done (nothing); left nginx`);
  });

  it("the next switch finishes it and reports what it did: resumed {target, steps}, result switched", async () => {
    const next = readJournal(state)!.target;
    const out = await cliJson<SwitchOut & { resumed?: { target: string; steps: { service: string; action: string }[] } }>(["switch", ...args()]);
    expect(out.result).toBe("switched");
    expect(out.resumed).toMatchObject({ target: next, steps: [{ service: "nginx", action: "reload" }] });
    expect(out.generation).toBe(next);
    expect((await status()).generation).toBe(next);
    expect((await status()).interrupted).toBeUndefined();
    expect((await httpGet(port)).body).toBe("new\n");
    expect(existsSync(path.join(state, "activation", "pending.json"))).toBe(false);
    first = next;
  });

  it("a resumed step that fails: back to the generation before it, journal cleared, exit 1 naming the cause", async () => {
    const gensBefore = await generations();
    // nginx cannot take this one: a second port, taken by someone else after the build checked
    // it, so the reload is refused and the old workers stay.
    const { broken, release } = await brokenGeneration();
    interruptedSwitchTo(state, first, broken);
    writeSnippet(local, "nginx", "site.conf", vhost(port, "new"));
    const r = await cli(["switch", ...args(), "--health-timeout", "2"]).finally(release);
    expect(r.code, r.stderr).toBe(1);
    const message = r.stderr.trim().split("\n").at(-1)!;
    expect(message).toContain(`the interrupted activation of ${broken} could not be finished: nginx`);
    expect(message).toContain("Address already in use");
    expect(message).toContain(`rolled back to ${first}`);
    expect(readJournal(state)).toBeNull();
    expect((await status()).generation).toBe(first);
    expect((await httpGet(port)).body).toBe("new\n");
    // The generation it made is gone: rollback cannot pick it.
    expect((await generations()).map((g) => g.path)).toEqual(gensBefore.map((g) => g.path));
    // And the next switch works as if nothing had happened.
    expect((await cliJson<SwitchOut>(["switch", ...args()])).result).toBe("unchanged");
  });

  it("rollback while a journal is pending returns to the generation active before it began", async () => {
    const next = await build("newer");
    interruptedSwitchTo(state, first, next, 0);
    const out = await cliJson<SwitchOut>(["rollback", "--state", state]);
    expect(out.result).toBe("switched");
    expect(out.generation).toBe(first);
    expect(readJournal(state)).toBeNull();
    expect((await status()).generation).toBe(first);
    expect((await httpGet(port)).body).toBe("new\n");
    expect((await generations()).some((g) => g.path === next)).toBe(false);
  });

  it("rollback goes to the previous generation that was active, past one that never was", async () => {
    const gens = await generations();
    const active = gens.find((g) => g.current)!;
    const before = gens.filter((g) => g.number < active.number && g.path !== active.path).at(-1)!;
    // What an older version left after a kill between the link and the journal: a generation
    // of the current path that was never made current, then the same path switched to again.
    const phantom = active.number + 1;
    symlinkSync(active.path, path.join(state, "profiles", `system-${phantom}-link`));
    const out = await cliJson<SwitchOut>(["rollback", "--state", state]);
    expect(out.generation).toBe(before.path);
    expect((await status()).generation).toBe(before.path);
    await cliJson(["switch", ...args()]);
  });

  it("a failed activation leaves no generation behind that rollback would pick", async () => {
    const gensBefore = await generations();
    const { release } = await brokenGeneration();
    const r = await cli(["switch", ...args(), "--health-timeout", "2"]).finally(release);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("rolled back to");
    expect((await generations()).map((g) => [g.number, g.path, g.current])).toEqual(gensBefore.map((g) => [g.number, g.path, g.current]));
    writeSnippet(local, "nginx", "site.conf", vhost(port, "new"));
  });

  it("leftovers of a kill at a rename (.tmp-*) and of a killed build (scratch directories) are removed by the next run", async () => {
    const dead = 2 ** 22 + 12345; // above pid_max's default: no process has it
    const temps = [path.join(state, "profiles", `.tmp-${dead}-0123456789ab`), path.join(state, "activation", `.tmp-${dead}-0123456789ab`), path.join(state, "services", "nginx", ".tmp-0123456789ab")];
    for (const t of temps) {
      mkdirSync(path.dirname(t), { recursive: true });
      symlinkSync("system-1-link", t);
    }
    const scratch = [path.join(state, "tmp", `validate-nginx-${dead}-AbC123`), path.join(state, "tmp", `redis-${dead}-xYz789`)];
    for (const s of scratch) mkdirSync(path.join(s, "out"), { recursive: true });
    const mine = path.join(state, "tmp", `redis-${process.pid}-live00`); // a live writer's: kept
    mkdirSync(mine, { recursive: true });
    writeSnippet(local, "nginx", "site.conf", vhost(port, "clean"));
    await cliJson(["switch", ...args()]);
    for (const p of [...temps, ...scratch]) expect(existsSync(p), p).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(readdirSync(path.join(state, "tmp"))).toEqual([path.basename(mine)]);
  });
});

describe("the state lock", () => {
  const root = tempDir();
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  const host = () => path.join(root, "host.json");
  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  /** A process holding the lock for `ms` (withLock in a child), resolving once it holds it. */
  const holder = (ms: number) =>
    new Promise<{ pid: number; done: Promise<void>; kill: () => void }>((resolve) => {
      const script = `import { withLock } from ${JSON.stringify(path.join(REPO, "src/store/lock.ts"))};\nawait withLock(${JSON.stringify(state)}, async () => { console.log("held"); await new Promise((r) => setTimeout(r, ${ms})); });`;
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
      const done = new Promise<void>((r) => child.on("close", () => r()));
      child.stdout.on("data", () => resolve({ pid: child.pid!, done, kill: () => child.kill("SIGKILL") }));
    });

  beforeAll(async () => {
    writeHost(root, { name: "web2", roles: ["webgateway"] });
    writeSnippet(local, "nginx", "site.conf", vhost(await freePort(), "x"));
  });

  it("a PID in the lock file proves nothing: a dead one, or a live process that is not holding it, does not block", async () => {
    mkdirSync(state, { recursive: true });
    writeFileSync(path.join(state, "lock"), "999999999\n");
    expect((await cli(["switch", "--host", host(), "--local", local, "--state", state])).code).toBe(0);
    writeFileSync(path.join(state, "lock"), `${process.pid}\n`); // alive (this test), like a reused PID
    expect((await cli(["switch", "--host", host(), "--local", local, "--state", state])).code).toBe(0);
  });

  it("a live holder is refused with its PID; once it is killed (-9) the next run gets the lock", async () => {
    const h = await holder(30_000);
    const r = await cli(["switch", "--host", host(), "--local", local, "--state", state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`held by running congruent process ${h.pid}`);
    h.kill();
    await h.done;
    expect((await cli(["switch", "--host", host(), "--local", local, "--state", state])).code).toBe(0);
  });

  it("runs starting together after a crash never both hold it", async () => {
    writeFileSync(path.join(state, "lock"), "999999999\n"); // what a crashed run leaves
    const log = path.join(root, "holders.log");
    const racers = Array.from({ length: 6 }, () =>
      new Promise<void>((resolve) => {
        const script = `import { appendFileSync } from "node:fs";\nimport { withLock } from ${JSON.stringify(path.join(REPO, "src/store/lock.ts"))};\ntry { await withLock(${JSON.stringify(state)}, async () => { appendFileSync(${JSON.stringify(log)}, "in " + process.pid + "\\n"); await new Promise((r) => setTimeout(r, 300)); appendFileSync(${JSON.stringify(log)}, "out " + process.pid + "\\n"); }); } catch (e) { if (e.code !== "E_LOCKED") throw e; }`;
        spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, stdio: "inherit" }).on("close", () => resolve());
      }),
    );
    await Promise.all(racers);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    // Every "in" is followed by the same process's "out" before anyone else's "in".
    for (let i = 0; i < lines.length; i += 2) expect(lines[i + 1]).toBe(lines[i]!.replace("in", "out"));
  });
});
