import { Worker } from "node:worker_threads";
import { cacheLookup } from "./cache.js";
import { makeReader, readFile, type FileResult, type ReaderSettings } from "./file.js";
import type { WorkerInit } from "./worker.js";

/** Reads batches of files; `threads` worker threads, or this thread when 0. */
export interface Pool {
  read(paths: string[]): Promise<FileResult[]>;
  /** True once a worker found the cache body unparseable (it then reads everything). */
  readonly cacheCorrupt: boolean;
  close(): Promise<void>;
}

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve: (r: FileResult[]) => void; reject: (e: Error) => void }>;
}

/**
 * A pool of worker threads reading files in parallel, each with its own 1 MiB buffer and its
 * own parse of the cache body. A batch goes to the thread with the fewest batches pending.
 * Running from TypeScript sources (tests), workers load through tsx.
 *
 * @example const pool = createPool(2, { storeDir: "/nix/store", quickcheck: 524288, unzip: [] }); await pool.read(["/home/a/.profile"]); await pool.close();
 */
export function createPool(threads: number, settings: ReaderSettings, cacheBody?: string): Pool {
  if (threads <= 0) return inProcess(settings, cacheBody);
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSource ? "./worker.ts" : "./worker.js", import.meta.url);
  const init: WorkerInit = { settings, cacheBody };
  let failure: Error | undefined;
  let cacheCorrupt = false;
  let nextId = 0;
  const pool: Thread[] = Array.from({ length: threads }, () => {
    const worker = fromSource
      ? new Worker(`import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, workerData: init })
      : new Worker(entry, { workerData: init });
    const thread: Thread = { worker, pending: new Map() };
    worker.on("message", (msg: { type: string; id: number; results: FileResult[] }) => {
      if (msg.type === "cache-corrupt") cacheCorrupt = true;
      else if (msg.type === "results") {
        thread.pending.get(msg.id)?.resolve(msg.results);
        thread.pending.delete(msg.id);
      }
    });
    worker.on("error", (error) => {
      failure = error;
      for (const t of pool) for (const p of t.pending.values()) p.reject(error);
    });
    return thread;
  });
  return {
    get cacheCorrupt() {
      return cacheCorrupt;
    },
    read(paths) {
      if (failure) return Promise.reject(failure);
      const thread = pool.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        thread.worker.postMessage({ id, paths });
      });
    },
    async close() {
      await Promise.all(pool.map((t) => t.worker.terminate()));
    },
  };
}

function inProcess(settings: ReaderSettings, cacheBody?: string): Pool {
  const lookup = cacheBody === undefined ? undefined : cacheLookup(cacheBody);
  const reader = makeReader(settings, lookup);
  let queue: Promise<unknown> = Promise.resolve();
  return {
    cacheCorrupt: cacheBody !== undefined && lookup === undefined,
    read(paths) {
      const run = queue.then(async () => {
        const out: FileResult[] = [];
        for (const p of paths) out.push(await readFile(reader, p));
        return out;
      });
      queue = run;
      return run;
    },
    async close() {},
  };
}
