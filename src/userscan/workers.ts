import { Worker } from "node:worker_threads";
import { cacheLookup } from "./cache.js";
import { makeReader, readFile, type FileResult, type ReaderSettings } from "./file.js";
import type { WorkerInit } from "./worker.js";

/** Bytes this thread reads before worker threads are started. */
const SPAWN_AFTER = 16 << 20;

/** Reads batches of files; `threads` worker threads, or this thread when 0. */
export interface Pool {
  read(paths: string[]): Promise<FileResult[]>;
  /** Batches answered by worker threads (the rest were read in this thread). */
  readonly threadBatches: number;
  /** True once a worker found the cache body unparseable (it then reads everything). */
  readonly cacheCorrupt: boolean;
  close(): Promise<void>;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  pending: Map<number, { resolve: (r: FileResult[]) => void; reject: (e: Error) => void }>;
}

/**
 * A pool of worker threads reading files in parallel, each with its own 1 MiB buffer and its
 * own parse of the cache body. A batch goes to the thread with the fewest batches pending.
 * Running from TypeScript sources (tests), workers load through tsx.
 *
 * @example const pool = createPool(2, { storeDir: "/nix/store", quickcheck: 524288, unzip: [] }); await pool.read(["/home/a/.profile"]); await pool.close();
 */
export function createPool(threads: number, settings: ReaderSettings, cacheBody?: string, spawnAfter = SPAWN_AFTER): Pool {
  if (threads <= 0) return inProcess(settings, cacheBody);
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSource ? "./worker.ts" : "./worker.js", import.meta.url);
  const init: WorkerInit = { settings, cacheBody };
  let failure: Error | undefined;
  let cacheCorrupt = false;
  let nextId = 0;
  let threadBatches = 0;
  const pool: Thread[] = [];
  const spawn = () => {
    const worker = fromSource
      ? new Worker(`import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, workerData: init })
      : new Worker(entry, { workerData: init });
    const thread: Thread = { worker, ready: false, pending: new Map() };
    worker.on("message", (msg: { type: string; id: number; results: FileResult[] }) => {
      if (msg.type === "ready") thread.ready = true;
      else if (msg.type === "results") threadBatches++;
      else if (msg.type === "cache-corrupt") cacheCorrupt = true;
      if (msg.type === "results") {
        thread.pending.get(msg.id)?.resolve(msg.results);
        thread.pending.delete(msg.id);
      }
    });
    worker.on("error", (error) => {
      failure = error;
      for (const t of pool) for (const p of t.pending.values()) p.reject(error);
    });
    pool.push(thread);
  };
  // This thread reads first; workers start only once it has read SPAWN_AFTER bytes, and it goes
  // on reading until one has loaded (tens of milliseconds). A warm rescan (all cache hits) or a
  // small tree never pays for threads; a large cold one loses nothing.
  let local: Pool | undefined;
  let localBytes = 0;
  return {
    get cacheCorrupt() {
      return cacheCorrupt || (local?.cacheCorrupt ?? false);
    },
    get threadBatches() {
      return threadBatches;
    },
    read(paths) {
      if (failure) return Promise.reject(failure);
      const ready = pool.filter((t) => t.ready);
      if (ready.length === 0) {
        local ??= inProcess(settings, cacheBody);
        if (pool.length === 0 && localBytes >= spawnAfter) for (let i = 0; i < threads; i++) spawn();
        // A macrotask turn, so the workers' "ready" messages get through between batches.
        return new Promise<void>((r) => setImmediate(r))
          .then(() => (local as Pool).read(paths))
          .then((results) => {
            for (const r of results) localBytes += r.bytes;
            return results;
          });
      }
      const thread = ready.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        thread.worker.postMessage({ id, paths });
      });
    },
    async close() {
      // Not awaited: the threads hold nothing to flush, and waiting for them costs milliseconds.
      for (const t of pool) {
        t.worker.unref();
        void t.worker.terminate();
      }
    },
  };
}

function inProcess(settings: ReaderSettings, cacheBody?: string): Pool {
  const lookup = cacheBody === undefined ? undefined : cacheLookup(cacheBody);
  const reader = makeReader(settings, lookup);
  let queue: Promise<unknown> = Promise.resolve();
  return {
    cacheCorrupt: cacheBody !== undefined && lookup === undefined,
    threadBatches: 0,
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
