import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { createPool } from "./workers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "userscan-workers-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const H = "8haldpz8zb6ch8cj0cj8s6dw8kshdns0";

it("worker threads read the same references as this thread", async () => {
  const files = Array.from({ length: 40 }, (_, i) => {
    const p = path.join(tmp, `f${i}`);
    fs.writeFileSync(p, i % 3 === 0 ? `x /nix/store/${H}-pkg${i} y` : "nothing");
    return p;
  });
  const settings = { storeDir: "/nix/store", quickcheck: 512 << 10, unzip: [] };
  const inline = createPool(0, settings);
  const expected = (await inline.read(files)).map((r) => r.refs);
  const pool = createPool(2, settings, undefined, 0);
  try {
    await pool.read(files.slice(0, 1)); // read here; starts the threads
    for (let i = 0; i < 100 && pool.threadBatches === 0; i++) {
      const got = await pool.read(files);
      expect(got.map((r) => r.refs)).toEqual(expected);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(pool.threadBatches).toBeGreaterThan(0);
  } finally {
    await pool.close();
  }
});
