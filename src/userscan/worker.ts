import { parentPort, workerData } from "node:worker_threads";
import { makeReader, type FileResult, type ReaderSettings } from "./file.js";
import { readShare } from "./workers.js";

/** What the pool sends a worker when it starts. */
export interface WorkerInit {
  settings: ReaderSettings;
}

/**
 * One job: read files of `paths`, taking them from the shared counter (control[0]). The thread
 * first marks control[slot] entered; if the pool has closed it already (it finished without
 * this thread), the thread does nothing. Answers once, with its share.
 */
export interface WorkerJob {
  id: number;
  paths: string[];
  control: SharedArrayBuffer;
  slot: number;
  stat: boolean;
  /** Every file's result, not only those with something to tell. */
  full: boolean;
}

// One thread of the pool (see workers.ts). Jobs are handled one after the other: the reader's
// buffer is shared by its files.
const reader = makeReader((workerData as WorkerInit).settings);
let queue = Promise.resolve();
parentPort?.on("message", (job: WorkerJob) => {
  queue = queue.then(async () => {
    const control = new Int32Array(job.control);
    if (Atomics.compareExchange(control, job.slot, 0, 1) !== 0) return;
    const results: FileResult[] = [];
    let files = 0;
    let bytes = 0;
    await readShare(reader, job.paths, control, job.stat, job.full, (b) => {
      for (const r of b.results) results.push(r);
      files += b.files;
      bytes += b.bytes;
    });
    parentPort?.postMessage({ type: "results", id: job.id, batch: { results, files, bytes } });
  });
});
parentPort?.postMessage({ type: "ready" });
