import { parentPort, workerData } from "node:worker_threads";
import { cacheLookup } from "./cache.js";
import { makeReader, readFile, type ReaderSettings } from "./file.js";

/** What the pool sends a worker when it starts. */
export interface WorkerInit {
  settings: ReaderSettings;
  cacheBody?: string | undefined;
}

// One thread of the pool (see workers.ts): receives batches of paths, answers with results.
// Batches are handled one after the other: the reader's buffer is shared by its files.
const init = workerData as WorkerInit;
let lookup: ReturnType<typeof cacheLookup>;
if (init.cacheBody !== undefined) {
  lookup = cacheLookup(init.cacheBody);
  if (lookup === undefined) parentPort?.postMessage({ type: "cache-corrupt" });
}
const reader = makeReader(init.settings, lookup);
let queue = Promise.resolve();
parentPort?.on("message", (msg: { id: number; paths: string[] }) => {
  queue = queue.then(async () => {
    const results = [];
    for (const p of msg.paths) results.push(await readFile(reader, p));
    parentPort?.postMessage({ type: "results", id: msg.id, results });
  });
});
parentPort?.postMessage({ type: "ready" });
