import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cli as run, cliJson as runJson, freePort, httpGet, tempDir, vhost, writeHost, writeSnippet, type SwitchOut, type StatusOut } from "../helpers.js";

/** One store engine under the switch suite. */
export interface SwitchEngine {
  name: string;
  /** The CLI's environment for a host rooted at `root`: CONGRUENT_STORE, and where that store lives. */
  env(root: string): Record<string, string>;
  /** The directory generations are stored in. */
  storeDir(root: string, state: string): string;
  /** Add a path to the store that no root reaches, from `source`; returns its store path. */
  addUnrooted(source: string, state: string, env: Record<string, string>): Promise<string>;
  /** Collect garbage the way this engine does; returns the deleted paths. */
  collect(state: string, env: Record<string, string>): Promise<string[]>;
}

/**
 * The life of one host: switch, reload on a snippet change, reject a bad one, roll back, gc.
 * The same cases run on every store engine.
 *
 * @example runSwitchSuite({ name: "embedded", env: () => ({}), … })
 */
export function runSwitchSuite(engine: SwitchEngine): void {
  describe(`nginx through the integration point, switched and rolled back (store: ${engine.name})`, () => {
    const root = tempDir();
    const state = path.join(root, "state");
    const local = path.join(root, "local");
    const env = engine.env(root);
    const cli = (a: string[]) => run(a, env);
    const cliJson = <T = Record<string, unknown>>(a: string[]) => runJson<T>(a, env);
    let port = 0;
    let hostFile = "";
    const args = () => ["--host", hostFile, "--local", local, "--state", state];
    const nginxPid = async () => (await cliJson<StatusOut>(["status", "--state", state])).services.find((s) => s.name === "nginx")?.pid;

    beforeAll(async () => {
      port = await freePort();
      hostFile = writeHost(root, { name: "web1", roles: ["webgateway"], parameters: { resource_group: "acme", location: "dev" }, settings: { nginx: { worker_processes: 2 } } });
      writeSnippet(local, "nginx", "shop.conf", vhost(port, "version A"));
    });

    afterAll(async () => {
      await cli(["down", "--state", state]);
    });

    it("builds the same path twice and another one when a snippet changes", async () => {
      const first = await cliJson<{ generation: string; hash: string }>(["build", ...args()]);
      const second = await cliJson<{ generation: string; hash: string }>(["build", ...args()]);
      expect(second).toEqual(first);
      expect(first.generation).toMatch(new RegExp(`^${engine.storeDir(root, state)}/[0-9a-df-np-sv-z]{32}-system-web1$`));
      expect(first.hash).toHaveLength(32);
      writeSnippet(local, "nginx", "shop.conf", vhost(port, "version A2"));
      const third = await cliJson<{ generation: string }>(["build", ...args()]);
      expect(third.generation).not.toBe(first.generation);
      writeSnippet(local, "nginx", "shop.conf", vhost(port, "version A"));
      // The README is linked into the integration point, pointing into the store.
      expect(existsSync(path.join(local, "nginx", "README.txt"))).toBe(true);
    });

    it("switches: nginx starts and serves the snippet's vhost", async () => {
      const out = await cliJson<SwitchOut>(["switch", ...args()]);
      expect(out.result).toBe("switched");
      expect(out.previous).toBeNull();
      expect(out.plan).toEqual([{ service: "nginx", action: "start", why: ["newly enabled by the host's roles"], to: expect.any(String) }]);
      expect((await httpGet(port)).body).toBe("version A\n");
      const status = await cliJson<StatusOut>(["status", "--state", state]);
      expect(status.generation).toBe(out.generation);
      expect(status.services).toEqual([{ name: "nginx", state: "running", pid: expect.any(Number) }]);
    });

    it("finds nothing to do when nothing changed", async () => {
      const pid = await nginxPid();
      const out = await cliJson<SwitchOut>(["switch", ...args()]);
      expect(out.result).toBe("unchanged");
      expect(out.plan.map((p) => p.action)).toEqual(["none"]);
      expect(await nginxPid()).toBe(pid);
    });

    it("plans a reload for a changed snippet, and --dry-run changes nothing", async () => {
      writeSnippet(local, "nginx", "shop.conf", vhost(port, "version B"));
      const before = await cliJson<{ length: number }>(["generations", "--state", state]);
      const dry = await cliJson<SwitchOut>(["switch", ...args(), "--dry-run"]);
      expect(dry.result).toBe("dry-run");
      expect(dry.plan).toMatchObject([{ service: "nginx", action: "reload", why: ["snippet shop.conf changed (reload)"] }]);
      expect((await httpGet(port)).body).toBe("version A\n");
      expect((await cliJson<{ length: number }>(["generations", "--state", state])).length).toBe(before.length);
    });

    it("reloads gracefully: the master PID stays and the new content is served", async () => {
      const pid = await nginxPid();
      const out = await cliJson<SwitchOut>(["switch", ...args()]);
      expect(out.result).toBe("switched");
      expect(out.plan).toMatchObject([{ service: "nginx", action: "reload" }]);
      expect(await nginxPid()).toBe(pid);
      expect((await httpGet(port)).body).toBe("version B\n");
    });

    it("explains a settings change with old and new value", async () => {
      const dry = await cliJson<SwitchOut>(["switch", "--host", writeHost(path.join(root), { name: "web1", roles: ["webgateway"], parameters: { resource_group: "acme", location: "dev" }, settings: { nginx: { worker_processes: 3 } } }), "--local", local, "--state", state, "--dry-run"]);
      expect(dry.plan).toMatchObject([{ service: "nginx", action: "reload", why: ["worker_processes: 2 → 3 (reload)"] }]);
      writeHost(root, { name: "web1", roles: ["webgateway"], parameters: { resource_group: "acme", location: "dev" }, settings: { nginx: { worker_processes: 2 } } });
    });

    it("rejects a snippet nginx refuses, naming file and line; the old content keeps being served", async () => {
      const active = (await cliJson<StatusOut>(["status", "--state", state])).generation;
      const bad = writeSnippet(local, "nginx", "broken.conf", "server {\n    listen 127.0.0.1:1;\n    bogus_directive on;\n}\n");
      const r = await cli(["switch", ...args()]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`${bad}:3`);
      expect(r.stderr).toContain('unknown directive "bogus_directive"');
      expect((await cliJson<StatusOut>(["status", "--state", state])).generation).toBe(active);
      expect((await httpGet(port)).body).toBe("version B\n");
      writeFileSync(bad, "# fixed later\n");
    });

    it("rolls back to the previous generation with a reload", async () => {
      const pid = await nginxPid();
      const out = await cliJson<SwitchOut>(["rollback", "--state", state]);
      expect(out.result).toBe("switched");
      expect(out.plan).toMatchObject([{ service: "nginx", action: "reload" }]);
      expect((await httpGet(port)).body).toBe("version A\n");
      expect(await nginxPid()).toBe(pid);
      const gens = await cliJson<{ number: number; current: boolean }[]>(["generations", "--state", state]);
      expect(gens.find((g) => g.current)?.number).toBe(1);
    });

    it("gc keeps the rooted generations and deletes an unrooted path", async () => {
      const scratch = path.join(root, "scratch");
      writeSnippet(scratch, "x", "file.txt", "unrooted\n");
      const added = await engine.addUnrooted(path.join(scratch, "x"), state, env);
      expect(existsSync(added)).toBe(true);
      const gens = await cliJson<{ path: string }[]>(["generations", "--state", state]);
      expect(gens.length).toBeGreaterThan(1);
      expect(await engine.collect(state, env)).toContain(added);
      expect(existsSync(added)).toBe(false);
      for (const g of gens) expect(existsSync(g.path)).toBe(true);
      expect((await httpGet(port)).body).toBe("version A\n");
    });

    it("a crashed nginx is restarted by the supervisor, and its orphaned workers are ended", async () => {
      const pid = (await nginxPid())!;
      const orphans = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).map(Number);
      expect(orphans.length).toBeGreaterThan(0);
      process.kill(pid, "SIGKILL");
      let next: number | null | undefined;
      for (let i = 0; i < 100 && (!next || next === pid); i++) {
        await new Promise((r) => setTimeout(r, 50));
        next = await nginxPid();
      }
      expect(next).toBeTruthy();
      expect(next).not.toBe(pid);
      for (let i = 0; i < 50; i++) {
        const ok = await httpGet(port).then((r) => r.body, () => "");
        if (ok) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await httpGet(port)).body).toBe("version A\n");
      // Gone, or a zombie waiting for PID 1 to reap it: either way it holds no socket.
      const alive = (p: number) => existsSync(`/proc/${p}`) && !/\) Z /.test(readFileSync(`/proc/${p}/stat`, "utf8"));
      for (const worker of orphans) expect(alive(worker), `worker ${worker}`).toBe(false);
    });
  });
}
