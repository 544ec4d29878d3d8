import { createServer } from "node:net";

// Test servers get ports below the kernel's ephemeral range (32768-60999 here), each vitest
// worker its own slice: a port chosen here cannot be taken meanwhile by another test's
// listen(0) or outgoing connection, nor by a test running in parallel in another worker.
const SLICE = 2500;
const base = 10_000 + (Number(process.env.VITEST_POOL_ID ?? 1) % 8) * SLICE;
let next = base + Math.floor(Math.random() * SLICE);

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port that is free now and that no other test worker will hand out.
 *
 * @example const port = await freePort();
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < SLICE; tries++) {
    const port = base + ((next++ - base) % SLICE);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${base}-${base + SLICE - 1}`);
}
