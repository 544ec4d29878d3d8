import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeServiceDir } from "./service-dir.js";

describe("writeServiceDir", () => {
  let root = "";
  beforeEach(async () => void (root = await fs.mkdtemp(path.join(os.tmpdir(), "congruent-svcdir-"))));
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it("creates, then rewrites only what changed, and drops optional files no longer wanted", async () => {
    const dir = path.join(root, "scan", "web");
    const tmp = path.join(root, "tmp");
    await fs.mkdir(path.dirname(dir));
    const files = { run: { content: "#!/bin/sh\n", mode: 0o755 }, "down-signal": { content: "SIGQUIT\n", mode: 0o644 } };
    expect(await writeServiceDir(dir, tmp, files, ["down-signal"])).toBe(true);
    expect((await fs.stat(path.join(dir, "run"))).mode & 0o777).toBe(0o755);
    const inode = (await fs.stat(path.join(dir, "run"))).ino;

    expect(await writeServiceDir(dir, tmp, files, ["down-signal"])).toBe(false);
    expect((await fs.stat(path.join(dir, "run"))).ino).toBe(inode);

    expect(await writeServiceDir(dir, tmp, { run: { content: "#!/bin/sh\nexec x\n", mode: 0o755 } }, ["down-signal"])).toBe(true);
    expect(await fs.readFile(path.join(dir, "run"), "utf8")).toBe("#!/bin/sh\nexec x\n");
    await expect(fs.access(path.join(dir, "down-signal"))).rejects.toThrow();
    expect(await fs.readdir(tmp)).toEqual([]); // no staging left behind
  });
});
