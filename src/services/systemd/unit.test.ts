import { describe, expect, it } from "vitest";
import { execWord, renderUnit, unitName } from "./unit.js";

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
    });
    expect(unit).toBe(
      [
        "# Written by congruent; rewritten on every install.",
        "[Unit]",
        "Description=Congruent service web",
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
    const unit = renderUnit({ name: "cache", command: ["/usr/bin/memcached"] });
    expect(unit).not.toMatch(/^(User|Environment|WorkingDirectory|ExecReload|KillSignal)=/m);
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
    expect(() => renderUnit({ name: "Web", command: ["x"] })).toThrow(/name must match/);
    expect(() => renderUnit({ name: "web", command: [] })).toThrow(/command is empty/);
    expect(() => renderUnit({ name: "web", command: ["x"], user: "a b" })).toThrow(/invalid user/);
    expect(() => renderUnit({ name: "web", command: ["x"], environment: { "A-B": "1" } })).toThrow(/environment variable/);
  });

  it("names units with a congruent- prefix", () => {
    expect(unitName("web")).toBe("congruent-web.service");
  });
});
