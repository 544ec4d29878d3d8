import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cli, freePort, tempDir } from "../helpers.js";
import { writeLegacyHost } from "../support/legacy-host.js";
import { makeCa, type TestCa } from "../support/tls.js";

/** The serial number of the certificate the server at `port` presents now (a new connection). */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: readFileSync(ca), servername: "localhost" }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on("error", reject);
  });
}

/** A running `directory serve`, its output collected. */
interface Serve {
  child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

function serve(args: string[], env: Record<string, string> = {}, wrap: string[] = []): Serve {
  const argv = [...wrap, process.execPath, CLI, "directory", "serve", ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, CONGRUENT_ADMIN_TOKEN: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once("exit", r));
      process.kill(child.pid!, "SIGTERM");
      return exited;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("the directory over TLS, and secrets at rest", () => {
  const dir = tempDir("congruent-directory-tls-");
  const db = path.join(dir, "db", "directory.db");
  const adminFile = path.join(dir, "admin.token");
  const certFile = path.join(dir, "directory.crt");
  const keyFile = path.join(dir, "directory.key");
  let ca: TestCa;
  let port = 0;
  let server: Serve;
  const url = () => `https://127.0.0.1:${port}`;
  const admin = (args: string[], extra: Record<string, string> = {}) => cli([...args, "--directory", url(), "--token-file", adminFile], extra);

  beforeAll(async () => {
    ca = makeCa(dir);
    const first = ca.issue("directory");
    copyFileSync(first.cert, certFile);
    copyFileSync(first.key, keyFile);
    writeFileSync(adminFile, "admin-token-of-the-tls-test-0123456789\n", { mode: 0o600 });
    port = await freePort();
    server = serve(["--db", `sqlite:${db}`, "--listen", `127.0.0.1:${port}`, "--admin-token-file", adminFile, "--tls-cert", certFile, "--tls-key", keyFile, "--tls-poll", "0.5"]);
    await until("the directory to listen", () => server.output().includes("directory listening on https://"));
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("serves https; admin commands and the agent trust a private CA with --ca, and say what is wrong without it", async () => {
    expect((await admin(["rg", "add", "acme", "--ca", ca.caCert])).code).toBe(0);
    const untrusted = await admin(["rg", "list"]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/directory unreachable \(\w+: its TLS certificate is not trusted; pass --ca FILE with the CA that signed it\)/);
    expect((await admin(["rg", "list", "--json"], { CONGRUENT_CA: ca.caCert })).stdout).toContain('"acme"');

    const token = path.join(dir, "web1.token");
    expect((await admin(["host", "add", "web1", "--rg", "acme", "--token-out", token, "--ca", ca.caCert])).code).toBe(0);
    const state = path.join(dir, "web1-state");
    const agent = (extra: string[]) => cli(["manage", "--once", "--json", "--directory", url(), "--token-file", token, "--name", "web1", "--state", state, "--local", path.join(dir, "web1-local"), ...extra]);
    const refused = await agent([]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("its TLS certificate is not trusted");
    const ran = await agent(["--ca", ca.caCert]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ report: { result: "switched" }, delivered: true });
  });

  it("migrate's uploads and fleet report trust the private CA with --ca too", async () => {
    const legacy = writeLegacyHost(tempDir("congruent-tls-legacy-"), { hostname: "web17" });
    const upload = (extra: string[]) => admin(["migrate", "inventory", "--root", legacy.root, "--upload", ...extra]);
    const untrusted = await upload([]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain("its TLS certificate is not trusted; pass --ca FILE");
    const uploaded = await upload(["--ca", ca.caCert]);
    expect(uploaded.code, uploaded.stderr).toBe(0);
    expect(uploaded.stderr).toContain(`inventory of web17 uploaded to ${url()}`);
    const fleet = await admin(["migrate", "report", "--json", "--ca", ca.caCert]);
    expect(fleet.code, fleet.stderr).toBe(0);
    expect((JSON.parse(fleet.stdout) as { hosts: { host: string }[] }).hosts.map((h) => h.host)).toEqual(["web17"]);
  });

  it("a renewed certificate is served without a restart: on SIGHUP, and when the files change", async () => {
    const pid = server.child.pid!;
    expect(await servedSerial(port, ca.caCert)).toBe("01");
    // A renewal tool that wrote the new certificate but not yet its key: the current pair stays.
    const renewed = ca.issue("directory-renewed");
    copyFileSync(renewed.cert, certFile);
    await until("the half renewal to be noticed", () => server.output().includes("TLS certificate not reloaded (file changed), the current one stays"));
    expect(await servedSerial(port, ca.caCert)).toBe("01");
    copyFileSync(renewed.key, keyFile);
    await until("the renewal to be served", async () => (await servedSerial(port, ca.caCert)) === "02");
    // The log line may reach the pipe a moment after the new certificate is served.
    await until("the renewal's log line", () => /TLS certificate reloaded \(file changed\): CN=directory-renewed/.test(server.output()));

    expect(server.child.exitCode).toBeNull();
    expect(server.child.pid).toBe(pid);

    // A directory that checks its files only once an hour reloads on SIGHUP.
    const other = { cert: path.join(dir, "hup.crt"), key: path.join(dir, "hup.key") };
    copyFileSync(renewed.cert, other.cert);
    copyFileSync(renewed.key, other.key);
    const hupPort = await freePort();
    const hup = serve(["--db", `sqlite:${dir}/hup.db`, "--listen", `127.0.0.1:${hupPort}`, "--admin-token-file", adminFile, "--tls-cert", other.cert, "--tls-key", other.key, "--tls-poll", "3600"]);
    try {
      await until("the second directory to listen", () => hup.output().includes("directory listening on https://"));
      expect(await servedSerial(hupPort, ca.caCert)).toBe("02");
      const third = ca.issue("directory-third");
      copyFileSync(third.cert, other.cert);
      copyFileSync(third.key, other.key);
      process.kill(hup.child.pid!, "SIGHUP");
      await until("the SIGHUP reload", async () => (await servedSerial(hupPort, ca.caCert)) === "03");
      await until("the SIGHUP reload's log line", () => /TLS certificate reloaded \(SIGHUP\): CN=directory-third/.test(hup.output()));
      expect(hup.child.exitCode).toBeNull();
    } finally {
      await hup.stop();
    }
  });

  it("the database, its WAL and shared memory are 0600", async () => {
    for (const f of [db, `${db}-wal`, `${db}-shm`]) {
      expect(existsSync(f), f).toBe(true);
      expect((statSync(f).mode & 0o777).toString(8), f).toBe("600");
    }
  });

  it("an admin token under 128 bits is refused, and so is one shaped like a host token", async () => {
    const short = path.join(dir, "short.token");
    writeFileSync(short, "0123456789abcdef0123456789abcde\n"); // 31 hex digits: 124 bits
    const r = serve(["--db", `sqlite:${dir}/other.db`, "--listen", `127.0.0.1:${await freePort()}`, "--admin-token-file", short]);
    expect(await new Promise((resolve) => r.child.once("exit", resolve))).toBe(1);
    expect(r.output()).toContain(`congruent: ${short}: the admin token carries at most 124 bits, fewer than 128`);
    const env = serve(["--db", `sqlite:${dir}/other.db`, "--listen", `127.0.0.1:${await freePort()}`], { CONGRUENT_ADMIN_TOKEN: "cgt_abcdefghijklmnopqrstuvwxyz0123456789" });
    expect(await new Promise((resolve) => env.child.once("exit", resolve))).toBe(1);
    expect(env.output()).toContain('an admin token must not start with "cgt_"');
  });

  it("manage refuses the admin token before it sends anything", async () => {
    const state = path.join(dir, "admin-state");
    const r = await cli(["manage", "--once", "--directory", url(), "--ca", ca.caCert, "--name", "web1", "--state", state, "--local", path.join(dir, "none")], { CONGRUENT_TOKEN: readFileSync(adminFile, "utf8").trim() });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'congruent: $CONGRUENT_TOKEN: not a host token (host tokens start with "cgt_"; is it the admin token?); give the agent its host\'s token: congruent host token NAME --token-out FILE',
    );
    expect(existsSync(state)).toBe(false);
  });

  it("an agent's first run with the directory unreachable changes nothing and exits 1", async () => {
    const token = path.join(dir, "first.token");
    writeFileSync(token, "cgt_never-issued\n");
    const state = path.join(dir, "first-state");
    const r = await cli(["manage", "--once", "--directory", `http://127.0.0.1:${await freePort()}`, "--token-file", token, "--name", "web9", "--state", state, "--local", path.join(dir, "none")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^congruent: GET http:\/\/127\.0\.0\.1:\d+\/v1\/hosts\/web9\/config: directory unreachable \(ECONNREFUSED\)/m);
    expect(existsSync(path.join(state, "profiles"))).toBe(false);
    expect(existsSync(path.join(state, "agent", "description.json"))).toBe(false);
  });
});

describe("listening beyond loopback without TLS", () => {
  it("warns, in a network namespace of the test's own (loopback only)", async () => {
    const dir = tempDir("congruent-directory-wide-");
    const adminFile = path.join(dir, "admin.token");
    writeFileSync(adminFile, "admin-token-of-the-wide-test-0123456789\n", { mode: 0o600 });
    const s = serve(["--db", `sqlite:${dir}/d.db`, "--listen", "0.0.0.0:8470", "--admin-token-file", adminFile], {}, ["unshare", "--net", "--"]);
    try {
      await until("the directory to listen", () => s.output().includes("directory listening on"));
      expect(s.output()).toContain("listening on 0.0.0.0 without TLS: tokens and host descriptions cross the network in the clear; serve with --tls-cert FILE --tls-key FILE");
    } finally {
      await s.stop();
    }
  });
});
