import { copyFileSync, renameSync, writeFileSync, appendFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, vhost, writeHost, writeSnippet, type StatusOut, type SwitchOut } from "../../helpers.js";
import { unitName } from "../../../src/services/systemd/unit.js";
import { cliJson, type Target } from "../../support/target.js";

const pidOf = async (t: Target, state: string, service: string) => (await cliJson<StatusOut>(t, ["status", "--state", state])).services.find((s) => s.name === service)?.pid ?? null;

/** Poll `check` every 50 ms until it holds, for at most `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await check().catch(() => false)) return true;
  }
  return false;
}

/**
 * nginx under either service manager: start, a graceful reload (same master), a crash the
 * manager repairs, and a new binary at the same path: swapped with a download in flight where
 * the manager follows a new master (systemd), a restart that says why where not (s6).
 */
export function runNginxCases(manager: string, target: () => Target): void {
  describe(`nginx under ${manager}`, () => {
    let t: Target;
    let root = "";
    let state = "";
    let port = 0;
    let binary = "";
    const args = () => ["--host", path.join(root, "host.json"), "--local", path.join(root, "local"), "--state", state];
    const env = () => ({ CONGRUENT_NGINX: binary });

    beforeAll(async () => {
      t = target();
      root = t.tempDir();
      state = t.stateDir();
      port = await freePort();
      // nginx from a path of its own, so the test can put a new binary there (as a package upgrade does).
      const srv = t.serviceDir();
      binary = path.join(srv, "nginx");
      copyFileSync("/usr/sbin/nginx", t.path(binary));
      writeFileSync(t.path(path.join(srv, "big.bin")), Buffer.alloc(3 * 1024 * 1024, "x"));
      writeHost(root, { name: "web1", roles: ["webgateway"] });
      writeSnippet(path.join(root, "local"), "nginx", "site.conf", vhost(port, "A").replace("location / {", `location /big { alias ${srv}/big.bin; }\n    location / {`));
    });
    afterAll(async () => {
      await t?.cli(["down", "--state", state]);
    });

    it("starts nginx, which serves the snippet", async () => {
      const out = await cliJson<SwitchOut>(t, ["switch", ...args()], env());
      expect(out.plan).toMatchObject([{ service: "nginx", action: "start" }]);
      expect(await eventually(async () => (await t.probes.httpGet(port)) === "A\n")).toBe(true);
      if (t.manager === "systemd") {
        // The unit as systemd loaded it: confined, restarted on failure, following nginx's PID file.
        const unit = unitName("nginx", state);
        const shown = await t.spawn(["systemctl", "show", "-p", "Type,PIDFile,Restart,NoNewPrivileges,ProtectSystem,ProtectHome,PrivateTmp,ReadWritePaths,ActiveState", unit]).done;
        const props = Object.fromEntries(shown.stdout.trim().split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2)));
        expect(props).toMatchObject({ Type: "forking", Restart: "on-failure", NoNewPrivileges: "yes", ProtectSystem: "strict", ProtectHome: "read-only", PrivateTmp: "yes", ActiveState: "active" });
        expect(props.ReadWritePaths).toContain(`${state}/run/nginx`);
      }
    });

    it("a snippet change is a reload: the same main PID serves the new content", async () => {
      const pid = await pidOf(t, state, "nginx");
      writeSnippet(path.join(root, "local"), "nginx", "site.conf", vhost(port, "B"));
      const out = await cliJson<SwitchOut>(t, ["switch", ...args()], env());
      expect(out.plan).toMatchObject([{ service: "nginx", action: "reload", why: ["snippet site.conf changed (reload)"] }]);
      expect(await pidOf(t, state, "nginx")).toBe(pid);
      expect(await t.probes.httpGet(port)).toBe("B\n");
    });

    it("a killed master is started again by the manager, and its orphaned workers are ended", async () => {
      const pid = (await pidOf(t, state, "nginx"))!;
      const workers = await t.probes.childrenOf(pid);
      expect(workers.length).toBeGreaterThan(0);
      await t.probes.kill(pid, "SIGKILL");
      expect(await eventually(async () => ![null, pid].includes(await pidOf(t, state, "nginx")))).toBe(true);
      expect(await eventually(async () => (await t.probes.httpGet(port)) === "B\n")).toBe(true);
      for (const w of workers) expect(await eventually(async () => !(await t.probes.isAlive(w)), 5000), `worker ${w}`).toBe(true);
    });

    it("a new binary at the same path: swapped with a download in flight where the manager follows it, else a restart that says why", async () => {
      const srv = path.dirname(binary);
      writeSnippet(path.join(root, "local"), "nginx", "site.conf", vhost(port, "B").replace("location / {", `location /big { alias ${srv}/big.bin; }\n    location / {`));
      await cliJson<SwitchOut>(t, ["switch", ...args()], env());
      // What a package upgrade does: a new file renamed over the old path.
      copyFileSync(t.path(binary), t.path(`${binary}.new`));
      appendFileSync(t.path(`${binary}.new`), "\0congruent test build\n");
      renameSync(t.path(`${binary}.new`), t.path(binary));
      const dry = await cliJson<SwitchOut>(t, ["switch", "--dry-run", ...args()], env());
      const pid = await pidOf(t, state, "nginx");
      if (t.manager === "s6") {
        expect(dry.plan).toMatchObject([{ service: "nginx", action: "restart" }]);
        expect(dry.plan[0]!.why.join("; ")).toMatch(/no binary swap: s6 follows only the nginx process it started/);
        return;
      }
      expect(dry.plan).toMatchObject([{ service: "nginx", action: "swap" }]);
      expect(dry.plan[0]!.why[0]).toMatch(/^program: .* \(swap: USR2 → WINCH → QUIT, no connection dropped\)$/);
      // A client downloading at 1 MB/s across the swap: it must get every byte.
      const download = t.spawn(["curl", "-sS", "--limit-rate", "1M", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", `http://127.0.0.1:${port}/big`]);
      await new Promise((r) => setTimeout(r, 500));
      const out = await cliJson<SwitchOut>(t, ["switch", ...args()], env());
      expect(out.plan).toMatchObject([{ service: "nginx", action: "swap" }]);
      const fetched = await download.done;
      expect(fetched.stdout, fetched.stderr).toBe(`200 ${3 * 1024 * 1024}`);
      const after = await pidOf(t, state, "nginx");
      expect(after).not.toBe(pid);
      expect(after).toBeGreaterThan(0);
      expect(await t.probes.httpGet(port)).toBe("B\n");
      // The new master runs the new file (the old one's is deleted), and nginx never stopped.
      expect(await t.probes.procStatus(after!)).toMatch(/^Name:\s+nginx/m);
    });
  });
}
