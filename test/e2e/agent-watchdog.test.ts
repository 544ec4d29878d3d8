import { afterAll, describe, expect, it } from "vitest";
import { createServer, type Socket } from "node:net";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cli, freePort, tempDir } from "../helpers.js";

/** A directory that accepts connections and never answers: the run must not hang. */
describe("the agent's watchdog", () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  afterAll(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });

  it("ends a run that makes no progress, exits 3 and keeps a timeout report for the directory", async () => {
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, "127.0.0.1", r));
    const root = tempDir();
    const token = path.join(root, "token");
    writeFileSync(token, "cgt_test\n");
    const started = Date.now();
    const r = await cli(["manage", "--once", "--watchdog", "1", "--directory", `http://127.0.0.1:${port}`, "--token-file", token, "--name", "web1", "--state", path.join(root, "state"), "--local", path.join(root, "local")]);
    expect(r.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(r.stderr).toContain('watchdog: no progress for 1 s during "fetch"');
    const outbox = path.join(root, "state", "agent", "outbox");
    const [file] = readdirSync(outbox);
    expect(JSON.parse(readFileSync(path.join(outbox, file!), "utf8"))).toMatchObject({ result: "timeout", error: expect.stringContaining("watchdog") });
  });
});
