/**
 * An agent inside a systemd box: the test process asks it, over a Unix socket in a directory
 * both see, to run probes (test/support/probes.ts) and SystemdManager methods where the box's
 * loopback, PIDs and systemd are. One per box, started once: a probe costs a socket round trip,
 * not a process.
 *
 * @example
 *   const agent = await BoxAgent.start(box);
 *   await agent.probes.httpGet(8080);                       // GET inside the box
 *   const manager = agent.manager("/var/lib/congruent");    // a ServiceManager backed by the box's systemd
 *   await agent.stop();
 */
import { once } from "node:events";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { CongruentError, type ErrorCode } from "../../src/errors.js";
import type { ServiceDefinition, ServiceManager } from "../../src/services/manager.js";
import { SystemdManager } from "../../src/services/systemd/index.js";
import type { Box, Spawned } from "./box.js";
import { localProbes, type Probes } from "./probes.js";

interface Request {
  id: number;
  /** A probe name, or `manager.<method>`. */
  op: string;
  stateDir?: string;
  args: unknown[];
}

type Reply = { id: number; value?: unknown; error?: { message: string; code?: string } };

const MANAGER_METHODS = ["ensureRunning", "install", "start", "stop", "restart", "reload", "remove", "status", "recentLog", "list", "down"] as const;

/** The client side, in the test process. */
export class BoxAgent {
  private next = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();

  private constructor(
    private readonly socket: net.Socket,
    private readonly process: Spawned,
  ) {
    createInterface({ input: socket }).on("line", (line) => {
      const reply = JSON.parse(line) as Reply;
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  static async start(box: Box): Promise<BoxAgent> {
    const socketPath = path.join(box.tempDir("agent-"), "agent.sock");
    // tsx by path: the box's working directory is /, where no node_modules resolves it.
    const tsx = pathToFileURL(path.resolve(import.meta.dirname, "../../node_modules/tsx/dist/loader.mjs")).href;
    const spawned = box.spawn([process.execPath, "--import", tsx, import.meta.filename, socketPath], { env: { NODE_OPTIONS: "" } });
    let exited: string | undefined;
    void spawned.done.then((r) => (exited = `the box agent exited with ${r.code}: ${r.stderr.slice(-2000)}`));
    for (let i = 0; !existsSync(socketPath); i++) {
      if (exited) throw new Error(exited);
      if (i > 1500) throw new Error("the box agent did not listen within 30 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    const socket = net.connect(socketPath);
    await once(socket, "connect");
    return new BoxAgent(socket, spawned);
  }

  /** Run `op` in the box; errors come back as errors (a CongruentError keeps its code). */
  call<T>(op: string, args: unknown[], stateDir?: string): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, (reply) => {
        if (!reply.error) return resolve(reply.value as T);
        reject(reply.error.code ? new CongruentError(reply.error.code as ErrorCode, reply.error.message) : new Error(reply.error.message));
      });
      this.socket.write(`${JSON.stringify({ id, op, args, stateDir } satisfies Request)}\n`);
    });
  }

  /** The probes, run inside the box. */
  readonly probes = new Proxy({} as Probes, { get: (_t, name: string) => (...args: unknown[]) => this.call(name, args) });

  /** A ServiceManager whose every call is SystemdManager's inside the box. */
  manager(stateDir: string): ServiceManager {
    const remote = Object.fromEntries(MANAGER_METHODS.map((m) => [m, (...args: unknown[]) => this.call(`manager.${m}`, args, stateDir)]));
    const local = new SystemdManager({ stateDir });
    return {
      ...remote,
      kind: "systemd",
      binarySwapUnsupported: (def: ServiceDefinition) => local.binarySwapUnsupported(def),
      swapBinary: () => Promise.reject(new Error("swapBinary takes a callback: run it inside the box (through the CLI)")),
    } as unknown as ServiceManager;
  }

  async stop(): Promise<void> {
    this.socket.destroy();
    this.process.kill();
    await this.process.done;
  }
}

/** The server side, inside the box. */
async function serve(socketPath: string): Promise<void> {
  const managers = new Map<string, SystemdManager>();
  const probes = localProbes as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const handle = async (request: Request): Promise<unknown> => {
    if (request.op.startsWith("manager.")) {
      const method = request.op.slice("manager.".length) as (typeof MANAGER_METHODS)[number];
      if (!MANAGER_METHODS.includes(method)) throw new Error(`no manager method ${method}`);
      let manager = managers.get(request.stateDir!);
      if (!manager) managers.set(request.stateDir!, (manager = new SystemdManager({ stateDir: request.stateDir! })));
      return (manager[method] as (...a: unknown[]) => Promise<unknown>).apply(manager, request.args);
    }
    const probe = probes[request.op];
    if (!probe) throw new Error(`no probe ${request.op}`);
    return probe(...request.args);
  };
  const server = net.createServer((socket) => {
    createInterface({ input: socket }).on("line", (line) => {
      const request = JSON.parse(line) as Request;
      handle(request).then(
        (value) => socket.write(`${JSON.stringify({ id: request.id, value: value ?? null })}\n`),
        (error: Error & { code?: string }) => socket.write(`${JSON.stringify({ id: request.id, error: { message: error.message, code: error instanceof CongruentError ? error.code : undefined } })}\n`),
      );
    });
  });
  server.listen(socketPath);
  await once(server, "listening");
}

if (process.argv[1] === import.meta.filename) void serve(process.argv[2]!);
