import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CongruentError } from "../errors.js";
import type { ServiceDefinition, ServiceManager } from "./manager.js";
import { freePort } from "../../test/support/ports.js";
import { localProbes, type Probes } from "../../test/support/probes.js";

/** Every test of the suite, by title: a backend may skip some, always with a reason. */
export const conformanceTests = [
  "install starts the service: running, a pid, it answers",
  "install again keeps the process; a changed definition applies at restart",
  "reload keeps the pid and serves new content",
  "nginx: reload keeps the master pid and serves the new config",
  "restart gives a new pid",
  "stop: stopped and port closed; start brings it back",
  "crash: the supervisor restarts a killed process",
  "a service that keeps exiting is failed",
  "status of an unknown service is an E_SERVICE error",
  "user option drops privileges",
  "remove stops the service and forgets it",
  "down leaves no process behind",
  "down leaves another state directory's services running",
] as const;

export type ConformanceTest = (typeof conformanceTests)[number];

export interface ConformanceOptions {
  name: string;
  create: (stateDir: string) => ServiceManager;
  skip?: { reason: string; tests: readonly ConformanceTest[] }[];
  /** Pids of the supervisor itself (e.g. s6-svscan), which down() must end too. */
  supervisorPids?: (stateDir: string) => Promise<number[]>;
  /** Where the services run, for HTTP and process checks (default: this machine). */
  probes?: Probes;
  /** A new directory the services can reach at the same path (default: under os.tmpdir()). */
  tempDir?: () => Promise<string>;
}

/**
 * One suite for every service manager, with real processes: a small node HTTP server and nginx.
 * Each test gets a fresh state dir and ends with down() plus SIGKILL of every pid it saw.
 *
 * @example runServiceManagerConformance({ name: "s6", create: (stateDir) => new S6Manager({ stateDir }) })
 */
export function runServiceManagerConformance(options: ConformanceOptions): void {
  describe(`service manager conformance: ${options.name}`, () => {
    let stateDir = "";
    let manager: ServiceManager;
    let seen: Set<number>;
    const probes = options.probes ?? localProbes;
    const newTempDir = options.tempDir ?? (() => fs.mkdtemp(path.join(os.tmpdir(), "congruent-services-")));
    const isAlive = (pid: number) => probes.isAlive(pid);
    const portOpen = (port: number) => probes.portOpen(port);
    /** The body once it equals `expected` (servers need a moment to listen or reload), else the last one. */
    const waitForAnswer = async (port: number, expected: string, timeoutMs = 10_000) => {
      let last = "";
      await poll(async () => (last = await probes.httpGet(port).catch((e: Error) => `(${e.message})`)) === expected, timeoutMs);
      return last;
    };

    const test = (title: ConformanceTest, body: () => Promise<void>, unmet?: string) => {
      const reason = options.skip?.find((s) => s.tests.includes(title))?.reason ?? unmet;
      if (reason !== undefined) it.skip(`${title} (skipped: ${reason})`, body);
      else it(title, body);
    };
    /** status(), remembering every pid for the cleanup. */
    const status = async (name: string) => {
      const s = await manager.status(name);
      if (s.pid !== null) seen.add(s.pid);
      return s;
    };
    const running = async (name: string) => {
      const s = await status(name);
      expect(s.state).toBe("running");
      expect(s.pid).toBeGreaterThan(0);
      return s.pid as number;
    };

    beforeEach(async () => {
      stateDir = await newTempDir();
      manager = options.create(stateDir);
      seen = new Set();
      await manager.ensureRunning();
      for (const pid of (await options.supervisorPids?.(stateDir)) ?? []) seen.add(pid);
    });

    afterEach(async () => {
      await manager.down().catch(() => {}); // the kills below are the fallback
      for (const pid of seen) if (await isAlive(pid)) await probes.kill(pid, "SIGKILL");
      await fs.rm(stateDir, { recursive: true, force: true });
    });

    test("install starts the service: running, a pid, it answers", async () => {
      const server = await nodeServer(stateDir, "hello");
      await manager.install(server.def);
      await running("web");
      expect(await waitForAnswer(server.port, "hello")).toBe("hello");
      expect(await probes.httpGet(server.port, "/quirk")).toBe(QUIRK); // environment and quoting survived
      expect(await manager.list()).toEqual(["web"]);
    });

    test("install again keeps the process; a changed definition applies at restart", async () => {
      const server = await nodeServer(stateDir, "v");
      await manager.install(server.def);
      await waitForAnswer(server.port, "v"); // listening: the pid below is the server's for good
      const pid = await running("web");
      await manager.install(server.def);
      expect(await running("web")).toBe(pid);
      await manager.install({ ...server.def, environment: { ...server.def.environment, QUIRK: "changed" } });
      expect(await running("web")).toBe(pid);
      await waitForAnswer(server.port, "v");
      expect(await probes.httpGet(server.port, "/quirk")).toBe(QUIRK);
      await manager.restart("web");
      await waitForAnswer(server.port, "v");
      expect(await probes.httpGet(server.port, "/quirk")).toBe("changed");
    });

    test("reload keeps the pid and serves new content", async () => {
      const server = await nodeServer(stateDir, "before");
      await manager.install(server.def);
      await waitForAnswer(server.port, "before");
      const pid = await running("web");
      await fs.writeFile(server.valueFile, "after");
      await manager.reload("web");
      expect(await waitForAnswer(server.port, "after")).toBe("after");
      expect(await running("web")).toBe(pid);
    });

    test("nginx: reload keeps the master pid and serves the new config", async () => {
      const site = await nginxSite(stateDir, "first");
      await manager.install(site.def);
      const pid = await running("nginx");
      expect(await waitForAnswer(site.port, "first")).toBe("first");
      await site.write("second");
      await manager.reload("nginx");
      expect(await waitForAnswer(site.port, "second")).toBe("second");
      expect(await running("nginx")).toBe(pid);
    }, existsSync(NGINX) ? undefined : `${NGINX} is not installed`);

    test("restart gives a new pid", async () => {
      const server = await nodeServer(stateDir, "r");
      await manager.install(server.def);
      const pid = await running("web");
      await manager.restart("web");
      const after = await running("web");
      expect(after).not.toBe(pid);
      expect(await isAlive(pid)).toBe(false);
      expect(await waitForAnswer(server.port, "r")).toBe("r");
    });

    test("stop: stopped and port closed; start brings it back", async () => {
      const server = await nodeServer(stateDir, "s");
      await manager.install(server.def);
      const pid = await running("web");
      await waitForAnswer(server.port, "s");
      await manager.stop("web");
      expect(await status("web")).toMatchObject({ state: "stopped", pid: null });
      expect(await isAlive(pid)).toBe(false);
      expect(await portOpen(server.port)).toBe(false);
      await manager.start("web");
      await running("web");
      expect(await waitForAnswer(server.port, "s")).toBe("s");
    });

    test("crash: the supervisor restarts a killed process", async () => {
      const server = await nodeServer(stateDir, "c");
      await manager.install(server.def);
      const pid = await running("web");
      await probes.kill(pid, "SIGKILL");
      const restarted = await poll(async () => {
        const s = await status("web");
        return s.state === "running" && s.pid !== pid;
      }, 10_000);
      expect(restarted).toBe(true);
      expect(await waitForAnswer(server.port, "c")).toBe("c");
    });

    test("a service that keeps exiting is failed", async () => {
      await manager.install({ name: "broken", command: ["/bin/sh", "-c", "exit 3"] });
      expect(await poll(async () => (await status("broken")).state === "failed", 10_000)).toBe(true);
    });

    test("status of an unknown service is an E_SERVICE error", async () => {
      const error = await manager.status("nope").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CongruentError);
      expect(error).toMatchObject({ code: "E_SERVICE", message: expect.stringContaining("nope") });
    });

    test("user option drops privileges", async () => {
      const server = await nodeServer(stateDir, "u");
      await fs.chmod(server.dir, 0o755); // mkdtemp's 0700 would lock nobody out
      await manager.install({ ...server.def, user: "nobody" });
      const pid = await running("web");
      // Answering means the supervisor has dropped privileges and exec'd the server (same pid).
      expect(await waitForAnswer(server.port, "u")).toBe("u");
      const uid = (await probes.procStatus(pid)).match(/^Uid:\s+(\d+)\s+(\d+)/m);
      expect([uid?.[1], uid?.[2]]).toEqual([String(NOBODY_UID), String(NOBODY_UID)]);
    });

    test("remove stops the service and forgets it", async () => {
      const server = await nodeServer(stateDir, "x");
      await manager.install(server.def);
      const pid = await running("web");
      await manager.remove("web");
      expect(await manager.list()).toEqual([]);
      expect(await isAlive(pid)).toBe(false);
      await expect(manager.status("web")).rejects.toMatchObject({ code: "E_SERVICE" });
      await manager.remove("web"); // idempotent: an interrupted activation may repeat it
    });

    test("down leaves no process behind", async () => {
      const one = await nodeServer(stateDir, "1", "one");
      const two = await nodeServer(stateDir, "2", "two");
      await manager.install(one.def);
      await manager.install(two.def);
      const pids = [await running("one"), await running("two"), ...((await options.supervisorPids?.(stateDir)) ?? [])];
      await manager.down();
      for (const pid of pids) expect(await isAlive(pid), `pid ${pid}`).toBe(false);
      expect(await portOpen(one.port)).toBe(false);
    });

    test("down leaves another state directory's services running", async () => {
      const otherState = await newTempDir();
      const other = options.create(otherState);
      try {
        await other.ensureRunning();
        const mine = await nodeServer(stateDir, "mine");
        const theirs = await nodeServer(otherState, "theirs");
        await manager.install(mine.def);
        await other.install(theirs.def);
        const theirPid = (await other.status("web")).pid!;
        seen.add(theirPid);
        await manager.down();
        expect(await portOpen(mine.port)).toBe(false);
        expect(await other.list()).toEqual(["web"]);
        expect(await other.status("web")).toMatchObject({ state: "running", pid: theirPid });
        expect(await waitForAnswer(theirs.port, "theirs")).toBe("theirs");
      } finally {
        await other.down().catch(() => {});
        await fs.rm(otherState, { recursive: true, force: true });
      }
    });
  });
}

const NGINX = "/usr/sbin/nginx";
const NOBODY_UID = 65534;
/** Quotes, $, %, backslash and spaces: the environment must reach the process byte for byte. */
const QUIRK = `it's "$HOME" 100% \\n \`x\``;

// Answers with the file's content (re-read on SIGHUP), or with $QUIRK at /quirk.
const SERVER_JS = `
const http = require("http"), fs = require("fs");
const read = () => fs.readFileSync(process.env.VALUE_FILE, "utf8");
let value = read();
process.on("SIGHUP", () => { value = read(); });
http.createServer((req, res) => res.end(req.url === "/quirk" ? process.env.QUIRK : value))
  .listen(Number(process.argv[1]), "127.0.0.1");
`;

async function nodeServer(stateDir: string, value: string, name = "web") {
  const dir = await fs.mkdtemp(path.join(stateDir, "site-"));
  const valueFile = path.join(dir, "value.txt");
  await fs.writeFile(valueFile, value, { mode: 0o644 });
  const port = await freePort();
  const def: ServiceDefinition = {
    name,
    command: [process.execPath, "-e", SERVER_JS, String(port)],
    environment: { VALUE_FILE: "value.txt", QUIRK }, // relative: checks workingDirectory too
    workingDirectory: dir,
    reloadSignal: "HUP",
  };
  return { def, dir, port, valueFile };
}

async function nginxSite(stateDir: string, body: string) {
  const prefix = await fs.mkdtemp(path.join(stateDir, "nginx-"));
  const port = await freePort();
  const conf = path.join(prefix, "nginx.conf");
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${prefix}/${t};`);
  const write = (text: string) =>
    fs.writeFile(conf, [
      "daemon off;", "worker_processes 1;", `pid ${prefix}/nginx.pid;`, `error_log ${prefix}/error.log;`,
      "events { worker_connections 64; }", "http {", `  access_log ${prefix}/access.log;`, ...temp,
      `  server { listen 127.0.0.1:${port}; location / { return 200 "${text}"; } }`, "}", "",
    ].join("\n"));
  await write(body);
  const def: ServiceDefinition = {
    name: "nginx",
    command: [NGINX, "-p", `${prefix}/`, "-c", conf],
    reloadSignal: "HUP",
    stopSignal: "QUIT",
  };
  return { def, port, write };
}

async function poll(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await check()) return true;
  }
  return false;
}
