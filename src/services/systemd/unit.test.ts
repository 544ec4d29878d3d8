import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { escapePath, execWord, renderUnit, unitName } from "./unit.js";

const STATE = "/var/lib/congruent";

describe("renderUnit", () => {
  it("renders every field (golden text)", () => {
    const unit = renderUnit({
      name: "web",
      command: ["/usr/sbin/nginx", "-c", "/srv/my conf/nginx.conf", "-g", 'error_log "/x" info;'],
      user: "www-data",
      environment: { TZ: "UTC", GREETING: 'say "hi" to $USER at 100%' },
      workingDirectory: "/srv/my site",
      reloadSignal: "HUP",
      stopSignal: "SIGQUIT",
    }, STATE);
    expect(unit).toBe(
      [
        "# Written by congruent; rewritten on every install.",
        "[Unit]",
        "Description=Congruent service web (/var/lib/congruent)",
        "",
        "[Service]",
        "Type=simple",
        'ExecStart="/usr/sbin/nginx" "-c" "/srv/my conf/nginx.conf" "-g" "error_log \\"/x\\" info;"',
        "User=www-data",
        'Environment="GREETING=say \\"hi\\" to $USER at 100%%"',
        'Environment="TZ=UTC"',
        "WorkingDirectory=/srv/my site",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillSignal=SIGQUIT",
        "Restart=on-failure",
        "RestartSec=1",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      ].join("\n"),
    );
  });

  it("leaves out what the definition does not set", () => {
    const unit = renderUnit({ name: "cache", command: ["/usr/bin/memcached"] }, STATE);
    expect(unit).not.toMatch(/^(User|Environment|WorkingDirectory|ExecReload|KillSignal|PIDFile|ProtectSystem|PrivateTmp)=/m);
    expect(unit).toContain('ExecStart="/usr/bin/memcached"\n');
  });

  it("quotes exec words: spaces, quotes, backslashes, $ and % stay literal", () => {
    expect(execWord("a b")).toBe('"a b"');
    expect(execWord('a"b')).toBe('"a\\"b"');
    expect(execWord("a\\b")).toBe('"a\\\\b"');
    expect(execWord("$HOME ${X}")).toBe('"$$HOME $${X}"');
    expect(execWord("100%n")).toBe('"100%%n"');
    expect(execWord("l1\nl2")).toBe('"l1\\nl2"');
  });

  it("rejects names, users and variables it could not express", () => {
    expect(() => renderUnit({ name: "Web", command: ["x"] }, STATE)).toThrow(/name must match/);
    expect(() => renderUnit({ name: "web", command: [] }, STATE)).toThrow(/command is empty/);
    expect(() => renderUnit({ name: "web", command: ["x"], user: "a b" }, STATE)).toThrow(/invalid user/);
    expect(() => renderUnit({ name: "web", command: ["x"], environment: { "A-B": "1" } }, STATE)).toThrow(/environment variable/);
  });

  it("names units with a congruent- prefix and the state directory as instance", () => {
    expect(unitName("web", STATE)).toBe("congruent-web@var-lib-congruent.service");
    expect(unitName("web", "/tmp/congruent-test/state")).toBe("congruent-web@tmp-congruent\\x2dtest-state.service");
  });

  it("escapes a path as systemd-escape --path does", () => {
    const paths = ["/var/lib/congruent", "/tmp/congruent-test-aB.1/state/", "//a b/.x/ü", "/", "/.hidden/x"];
    const expected = ["var-lib-congruent", "tmp-congruent\\x2dtest\\x2daB.1-state", "a\\x20b-.x-\\xc3\\xbc", "-", "\\x2ehidden-x"];
    expect(paths.map(escapePath)).toEqual(expected);
    const real = spawnSync("systemd-escape", ["--path", ...paths], { encoding: "utf8" });
    if (real.status === 0) expect(real.stdout.trim().split(" ")).toEqual(expected);
  });

  it("confines a service that names where it writes, and follows a daemon through its PID file", () => {
    const unit = renderUnit({
      name: "nginx", command: ["/usr/sbin/nginx", "-g", "daemon off;"], writablePaths: ["/var/lib/congruent/run/nginx", "/var/lib/congruent/log/nginx"], readsHomes: true,
      daemon: { command: ["/usr/sbin/nginx"], pidFile: "/var/lib/congruent/run/nginx/nginx.pid" },
    }, STATE);
    expect(unit).toContain('Type=forking\nExecStart="/usr/sbin/nginx"\nPIDFile=/var/lib/congruent/run/nginx/nginx.pid\n');
    expect(unit).toContain(["NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=-/var/lib/congruent/run/nginx", "ReadWritePaths=-/var/lib/congruent/log/nginx", "PrivateTmp=yes", "ProtectHome=read-only"].join("\n"));
    const inTmp = renderUnit({ name: "cache", command: ["/usr/bin/memcached"], writablePaths: [] }, "/tmp/t/state");
    expect(inTmp).toContain("Type=simple\n");
    expect(inTmp).toMatch(/^# PrivateTmp= would hide the state directory/m);
    expect(inTmp).toContain("ProtectHome=yes");
    expect(inTmp).not.toMatch(/^PrivateTmp=/m);
  });
});
