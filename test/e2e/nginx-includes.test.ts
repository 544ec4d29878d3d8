import { afterAll, beforeAll, expect, it } from "vitest";
import { describeUnless } from "../support/skip.js";
import { chmodSync, chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fingerprint } from "../../src/agent/fingerprint.js";
import { cli, cliJson, freePort, httpGet, servicePid, tempDir, writeHost, type SwitchOut } from "../helpers.js";

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

/** A file owned by `uid`, mode `mode`, its directories created (0755, owned by `uid`). */
function put(file: string, text: string, uid = NOBODY, mode = 0o644): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, text);
  chmodSync(file, mode);
  chownSync(file, uid, uid);
  chownSync(path.dirname(file), uid, uid);
  return file;
}

/**
 * A customer's integration point (owned by `nobody`) whose snippets include files from an
 * application's own directory: those are inputs of the generation; what `nobody` could not
 * read is refused before nginx -t (root) opens it.
 */
describeUnless(asRoot ? undefined : "needs root (the integration point is owned by nobody)")("what a snippet includes is an input, and only what its owners may read", () => {
  const root = tempDir("congruent-includes-");
  const state = path.join(root, "state");
  const local = path.join(root, "local");
  const srv = path.join(root, "srv", "shop");
  const snippet = path.join(local, "nginx", "shop.conf");
  const app = path.join(srv, "vendor", "framework", "nginx.conf");
  let port = 0;
  let other = 0;
  let hostFile = "";
  const args = () => ["--host", hostFile, "--local", local, "--state", state];
  const switchFails = async () => {
    const r = await cli(["switch", ...args()]);
    expect(r.code, r.stdout).toBe(1);
    return r.stderr.trim();
  };

  beforeAll(async () => {
    chmodSync(root, 0o755);
    port = await freePort();
    other = await freePort();
    hostFile = writeHost(root, { name: "web1", roles: ["webgateway"] });
    mkdirSync(path.join(local, "nginx"), { recursive: true });
    chownSync(path.join(local, "nginx"), NOBODY, NOBODY);
    put(app, `server {\n    listen 127.0.0.1:${port};\n    location / { return 200 "app v1\\n"; }\n}\n`);
    put(snippet, `# the framework's sample\ninclude ${app};\n`);
  });

  afterAll(async () => {
    await cli(["down", "--state", state]);
  });

  it("serves what the snippet includes from the application's directory", async () => {
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan).toMatchObject([{ service: "nginx", action: "start" }]);
    expect((await httpGet(port)).body).toBe("app v1\n");
  });

  it("a change to the included file is a new generation, planned as a reload; the agent's fingerprint sees it", async () => {
    const pid = await servicePid(state, "nginx");
    const active = (await cliJson<{ generation: string }>(["status", "--state", state])).generation;
    const before = fingerprint(local, active);
    put(app, `server {\n    listen 127.0.0.1:${port};\n    location / { return 200 "app v2\\n"; }\n}\n`);
    expect(fingerprint(local, active)).not.toBe(before);
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.generation).not.toBe(active);
    expect(out.plan).toMatchObject([{ service: "nginx", action: "reload", why: [`include ${app} changed (reload)`] }]);
    expect((await httpGet(port)).body).toBe("app v2\n");
    expect(await servicePid(state, "nginx")).toBe(pid);
  });

  it("switching back serves the text the old generation was built with", async () => {
    const back = await cliJson<SwitchOut>(["rollback", "--state", state]);
    expect(back.plan).toMatchObject([{ service: "nginx", action: "reload" }]);
    expect((await httpGet(port)).body).toBe("app v1\n");
    await cliJson(["switch", ...args()]);
    expect((await httpGet(port)).body).toBe("app v2\n");
  });

  it("globs (sites-available/*.conf) and nested includes keep working; files they add are planned", async () => {
    const sites = path.join(srv, "sites-available");
    const common = put(path.join(srv, "common", "ok.inc"), `return 200 "b\\n";\n`);
    put(path.join(sites, "a.conf"), `server {\n    listen 127.0.0.1:${other};\n    server_name a.example;\n    location / { return 200 "a\\n"; }\n}\n`);
    put(path.join(sites, "b.conf"), `server {\n    listen 127.0.0.1:${other};\n    server_name b.example;\n    location / { include ${common}; }\n}\n`);
    put(snippet, `# the framework's sample\ninclude ${app};\ninclude ${sites}/*.conf;\n`);
    await cliJson(["switch", ...args()]);
    expect((await httpGet(other, "a.example")).body).toBe("a\n");
    expect((await httpGet(other, "b.example")).body).toBe("b\n");
    put(path.join(sites, "c.conf"), `server {\n    listen 127.0.0.1:${other};\n    server_name c.example;\n    location / { return 200 "c\\n"; }\n}\n`);
    const out = await cliJson<SwitchOut>(["switch", ...args()]);
    expect(out.plan[0]!.why).toEqual(expect.arrayContaining([`include ${sites}/*.conf changed (reload)`, `include ${sites}/c.conf added (reload)`]));
    expect((await httpGet(other, "c.example")).body).toBe("c\n");
  });

  it("an error nginx finds in an included file names that file and line", async () => {
    const broken = put(path.join(srv, "broken.conf"), `server {\n    listen 127.0.0.1:${other};\n    retrun 200;\n}\n`);
    put(snippet, `include ${broken};\n`);
    expect(await switchFails()).toBe(`congruent: ${broken}:3: unknown directive "retrun"`);
    expect((await httpGet(port)).body).toBe("app v2\n");
  });

  it("refuses, by file and line, a file the snippet's owners could not read, and never shows its content", async () => {
    const secret = put(path.join(root, "private", "secret.conf"), "topsecret-first-word and more;\n", 0, 0o600);
    const hidden = path.join(root, "root-only");
    mkdirSync(hidden, { mode: 0o700 });
    put(snippet, `# tries to read root's file\ninclude ${secret};\n`);
    const refused = await switchFails();
    expect(refused).toBe(`congruent: ${snippet}:2: include ${secret}: the snippet's owners (nobody) cannot read it themselves, so it is not read for them`);
    expect(refused).not.toContain("topsecret");
    // Behind a directory they cannot search, a file that exists and one that does not look the same.
    writeFileSync(path.join(hidden, "real.conf"), "x;\n");
    put(snippet, `include ${hidden}/real.conf;\n`);
    const exists = await switchFails();
    put(snippet, `include ${hidden}/none.conf;\n`);
    const absent = await switchFails();
    expect(exists.replace("real.conf", "X")).toBe(absent.replace("none.conf", "X"));
    // A glob into such a directory is refused as a whole: its names are not shown either.
    put(snippet, `include ${hidden}/*.conf;\n`);
    expect(await switchFails()).toContain(`include ${hidden}/*.conf: directory ${hidden}: the snippet's owners (nobody) cannot read it`);
    // Nested: the application's file tries it.
    const sneaky = put(path.join(srv, "sneaky.conf"), `# ok so far\ninclude ${secret};\n`);
    put(snippet, `include ${sneaky};\n`);
    expect(await switchFails()).toBe(`congruent: ${sneaky}:2: include ${secret}: the snippet's owners (nobody) cannot read it themselves, so it is not read for them`);
    // Keys nginx loads as root: the same rule, read in place.
    put(snippet, `server {\n    listen 127.0.0.1:${other} ssl;\n    ssl_certificate_key ${secret};\n}\n`);
    expect(await switchFails()).toContain(`${snippet}:3: ssl_certificate_key ${secret}: the snippet's owners (nobody) cannot read it themselves`);
    put(snippet, `include ../../../../../../etc/passwd;\n`);
    expect(await switchFails()).toContain(`${snippet}:1: include ../../../../../../etc/passwd: a relative path names a file of the generation and must stay inside it`);
    expect((await httpGet(port)).body).toBe("app v2\n");
    rmSync(hidden, { recursive: true });
  });
});
