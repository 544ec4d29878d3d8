import { Worker } from "node:worker_threads";
import { cacheLookup } from "./cache.js";
import { finishArchive, makeReader, readFile, readSync, type CacheEntry, type FileResult, type Reader, type ReaderSettings } from "./file.js";
import type { WorkerInit, WorkerJob } from "./worker.js";

/** Bytes `read` reads in this thread before it starts the worker threads. */
const SPAWN_AFTER = 16 << 20;

/** Files a thread takes from the shared list at a time: few, so that the threads finish together. */
export const CLAIM = 8;

/**
 * Some files' answers. `results` holds the FileResult of every file with something to tell
 * (references, an error, a warning) or, when stat'ed, of every file; `files` and `bytes` count
 * all the files handled, the silent ones too: most files of a home cost no object, no message.
 */
export interface BatchResult {
  results: FileResult[];
  files: number;
  bytes: number;
}

/** Reads files: in this thread, and in worker threads once started. */
export interface Pool {
  /** Start the worker threads (they take tens of milliseconds to load: start them early). */
  start(): void;
  /**
   * Read every one of `paths` (fstat'ing each when `stat`), this thread and the started
   * threads taking the next few files from one shared counter until none is left: no thread
   * waits while another has work queued. `collect` gets the answers as they come.
   */
  readAll(paths: string[], stat: boolean, collect: (batch: BatchResult) => void): Promise<void>;
  /** Every file's FileResult (stat'ed), in order: by a loaded thread if there is one, else here. */
  read(paths: string[]): Promise<FileResult[]>;
  /** Jobs answered by worker threads. */
  readonly threadBatches: number;
  /** True when the cache body given could not be parsed (everything is read then). */
  readonly cacheCorrupt: boolean;
  close(): Promise<void>;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  /** Jobs this thread has entered, by id. */
  pending: Map<number, { resolve: (batch: BatchResult) => void; reject: (error: Error) => void }>;
}

/** Slot states in a job's control array (slot 0 is the counter, slot 1 + i thread i's state: 1 entered). */
const NOT_ENTERED = 0;
const CLOSED = 2;

/**
 * Take CLAIM files at a time from `paths` via the shared counter `control[0]` and read them
 * here; the part of a job every thread runs, worker threads and this one alike.
 */
export async function readShare(reader: Reader, paths: string[], control: Int32Array, stat: boolean, full: boolean, collect: (batch: BatchResult) => void): Promise<void> {
  for (;;) {
    const from = Atomics.add(control, 0, CLAIM);
    if (from >= paths.length) return;
    const to = Math.min(paths.length, from + CLAIM);
    const results: FileResult[] = [];
    let bytes = 0;
    for (let i = from; i < to; i++) {
      let r = readSync(reader, paths[i] as string, stat);
      if (r.archive) r = await finishArchive(reader, r);
      bytes += r.bytes;
      if (full || stat || r.refs.length > 0 || r.error !== undefined || r.warning !== undefined) results.push(r);
    }
    collect({ results, files: to - from, bytes });
  }
}

/**
 * A reader in this thread plus `threads` worker threads, each with its own buffer, started by
 * `start()` (or by `read` once this thread has read `spawnAfter` bytes). A warm rescan (all
 * cache hits) or a small tree never pays for them. Running from TypeScript sources (tests),
 * workers load through tsx. `cacheBody` (optional) lets `read` answer unchanged files from it.
 *
 * @example const pool = createPool(1, settings); pool.start(); await pool.readAll(paths, false, (b) => …); await pool.close();
 */
export function createPool(threads: number, settings: ReaderSettings, cacheBody?: string, spawnAfter = SPAWN_AFTER): Pool {
  let lookup: ((key: string) => CacheEntry | undefined) | undefined;
  let cacheCorrupt = false;
  if (cacheBody !== undefined) {
    lookup = cacheLookup(cacheBody);
    cacheCorrupt = lookup === undefined;
  }
  const reader = makeReader(settings, lookup);
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSource ? "./worker.ts" : "./worker.js", import.meta.url);
  const init: WorkerInit = { settings };
  let failure: Error | undefined;
  let nextId = 0;
  let threadBatches = 0;
  let localBytes = 0;
  const pool: Thread[] = [];
  const spawn = () => {
    const worker = fromSource
      ? new Worker(`import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, workerData: init })
      : new Worker(entry, { workerData: init });
    const thread: Thread = { worker, ready: false, pending: new Map() };
    worker.on("message", (msg: { type: string; id: number; batch: BatchResult }) => {
      if (msg.type === "ready") thread.ready = true;
      else if (msg.type === "results") {
        threadBatches++;
        thread.pending.get(msg.id)?.resolve(msg.batch);
        thread.pending.delete(msg.id);
      }
    });
    const fail = (error: Error) => {
      failure ??= error;
      for (const t of pool) for (const p of t.pending.values()) p.reject(failure);
    };
    worker.on("error", fail);
    // A thread gone without an error event (killed) must not leave its job waited for forever.
    worker.on("exit", (code) => {
      if (thread.pending.size > 0) fail(new Error(`userscan reader thread exited (code ${code}) with work in hand`));
    });
    pool.push(thread);
  };
  /**
   * Give `thread` the job of reading its share of `paths`. Returns its answer, and `settle`: once
   * this thread is done, the answer, or an empty one if the thread never entered (still loading).
   */
  const post = (thread: Thread, slot: number, paths: string[], control: Int32Array, stat: boolean, full: boolean) => {
    const id = nextId++;
    const job: WorkerJob = { id, paths, control: control.buffer as SharedArrayBuffer, slot, stat, full };
    const answer = new Promise<BatchResult>((resolve, reject) => thread.pending.set(id, { resolve, reject }));
    void answer.catch(() => undefined); // awaited by settle; a failure must not go unhandled meanwhile
    thread.worker.postMessage(job);
    const settle = () => {
      // A thread still loading has not entered: close its slot and do not wait for it.
      if (Atomics.compareExchange(control, slot, NOT_ENTERED, CLOSED) === NOT_ENTERED) {
        thread.pending.delete(id);
        return Promise.resolve({ results: [], files: 0, bytes: 0 });
      }
      return answer;
    };
    return { answer, settle };
  };
  const self: Pool = {
    get cacheCorrupt() {
      return cacheCorrupt;
    },
    get threadBatches() {
      return threadBatches;
    },
    start() {
      if (pool.length === 0) for (let i = 0; i < threads; i++) spawn();
    },
    async readAll(paths, stat, collect) {
      if (failure) throw failure;
      const control = new Int32Array(new SharedArrayBuffer(4 * (1 + pool.length)));
      const answers = paths.length > CLAIM ? pool.map((t, i) => post(t, 1 + i, paths, control, stat, false)) : [];
      await readShare(reader, paths, control, stat, false, collect);
      for (const answer of answers) collect(await answer.settle());
    },
    async read(paths) {
      if (failure) throw failure;
      if (lookup) {
        // The cache answers here; only the misses are read.
        const out: FileResult[] = [];
        for (const p of paths) out.push(await readFile(reader, p));
        return out;
      }
      const control = new Int32Array(new SharedArrayBuffer(8));
      const i = pool.findIndex((t) => t.ready);
      if (i >= 0) {
        const batch = await post(pool[i] as Thread, 1, paths, control, true, true).answer;
        return batch.results;
      }
      const out: FileResult[] = [];
      await readShare(reader, paths, control, true, true, (b) => {
        out.push(...b.results);
        localBytes += b.bytes;
      });
      if (threads > 0 && localBytes >= spawnAfter) self.start();
      return out;
    },
    async close() {
      // Not awaited: the threads hold nothing to flush, and waiting for them costs milliseconds.
      for (const t of pool) {
        t.worker.unref();
        void t.worker.terminate();
      }
    },
  };
  return self;
}
