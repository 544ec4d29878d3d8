import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { checkDefinition, renderFinishScript, renderLogRunScript, renderRunScript, shellQuote, svcFlagFor } from "./run-script.js";

const sh = promisify(execFile);

describe("s6 run scripts", () => {
  it("renders a full definition (golden text)", () => {
    const script = renderRunScript({
      name: "web",
      command: ["/usr/sbin/nginx", "-g", "daemon off;"],
      user: "nobody",
      environment: { Z: "last", A: "it's $HOME" },
      workingDirectory: "/srv/my site",
    });
    expect(script).toBe(
      [
        "#!/bin/sh",
        "# Written by congruent; rewritten on every install.",
        "exec 2>&1",
        "echo $$ > congruent-pgid",
        "cd '/srv/my site' || exit 111",
        "export A='it'\\''s $HOME'",
        "export Z='last'",
        "exec 's6-setuidgid' 'nobody' '/usr/sbin/nginx' '-g' 'daemon off;'",
        "",
      ].join("\n"),
    );
  });

  it("quotes so /bin/sh passes every byte through", async () => {
    const words = [`it's`, `"$HOME"`, "a b", "back\\slash", "`id`", "100%", "new\nline", ""];
    const { stdout } = await sh("/bin/sh", ["-c", `printf '%s|' ${words.map(shellQuote).join(" ")}`]);
    expect(stdout).toBe(words.map((w) => `${w}|`).join(""));
  });

  it("finish ends what a dead service left in its process group", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "congruent-finish-"));
    // A group leader with a child, as an nginx master with a worker.
    const leader = spawn("/bin/sh", ["-c", "sleep 30 & wait"], { detached: true, stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 100));
    const child = Number(execFileSync("pgrep", ["-P", String(leader.pid)], { encoding: "utf8" }).trim());
    process.kill(leader.pid!, "SIGKILL");
    writeFileSync(path.join(dir, "congruent-pgid"), `${leader.pid}\n`);
    writeFileSync(path.join(dir, "finish"), renderFinishScript(), { mode: 0o755 });
    await sh(path.join(dir, "finish"), ["256", "9", "web"], { cwd: dir });
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`/proc/${child}`) && !readFileSync(`/proc/${child}/stat`, "utf8").includes(") Z ")).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it("logs with rotation into the given dir", () => {
    expect(renderLogRunScript("/var/lib/c/log/web")).toBe("#!/bin/sh\nexec s6-log n10 s1000000 T '/var/lib/c/log/web'\n");
  });

  it("maps signals to s6-svc flags", () => {
    expect(svcFlagFor("HUP", "web")).toBe("-h");
    expect(svcFlagFor("SIGUSR1", "web")).toBe("-1");
    expect(svcFlagFor("usr2", "web")).toBe("-2");
    expect(svcFlagFor("QUIT", "web")).toBe("-q");
    expect(() => svcFlagFor("PWR", "web")).toThrow(/cannot send signal "PWR"/);
  });

  it("rejects what the script could not express", () => {
    const ok = { name: "web", command: ["/bin/true"] };
    expect(() => checkDefinition(ok)).not.toThrow();
    expect(() => checkDefinition({ ...ok, name: "../x" })).toThrow(/name must match/);
    expect(() => checkDefinition({ ...ok, command: [] })).toThrow(/command is empty/);
    expect(() => checkDefinition({ ...ok, user: "x; rm" })).toThrow(/invalid user/);
    expect(() => checkDefinition({ ...ok, environment: { "A B": "1" } })).toThrow(/environment variable/);
    expect(() => checkDefinition({ ...ok, reloadSignal: "NOPE" })).toThrow(/cannot send signal/);
  });
});
