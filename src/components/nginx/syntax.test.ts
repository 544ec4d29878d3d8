import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseNginx, quoteWord, serializeNginx, unquote } from "./syntax.js";

describe("parseNginx", () => {
  it("reads directives, blocks, quoted strings, comments and ${var} with line numbers", () => {
    const text = `# comment { not a block
user nginx;
http {
    log_format main '$remote_addr "$request"'
                     ' $status';
    server {
        add_header X-Test "a; b { c }" always;   # trailing comment
        set $x "\${host}";
        rewrite ^/(.*)$ /x/\${1} last;
    }
}
`;
    const { nodes, error } = parseNginx(text, "/etc/nginx/nginx.conf");
    expect(error).toBeUndefined();
    expect(nodes.map((n) => [n.name, n.line])).toEqual([["user", 2], ["http", 3]]);
    const http = nodes[1]!.block!;
    expect(http[0]).toMatchObject({ name: "log_format", args: ["main", `'$remote_addr "$request"'`, "' $status'"], line: 4 });
    const server = http[1]!.block!;
    expect(server[0]).toMatchObject({ name: "add_header", args: ["X-Test", '"a; b { c }"', "always"], line: 7 });
    expect(server[2]!.args).toEqual(["^/(.*)$", "/x/${1}", "last"]);
    expect(unquote(server[0]!.args[1]!)).toBe("a; b { c }");
  });

  it.each([
    ["server {\n listen 80;\n }\n}\n", 4, 'unexpected "}"'],
    ["server {\n listen 80;\n", 3, 'unexpected end of file, expecting "}"'],
    ["user nginx\n", 2, 'unexpected end of file, expecting ";" or "}"'],
    ["server {\n return 200 \"unterminated;\n}\n", 2, "unterminated double quote"],
    ["; user nginx;\n", 1, 'unexpected ";"'],
  ])("reports %j at line %i", (text, line, message) => {
    const { error } = parseNginx(text, "/etc/nginx/bad.conf");
    expect(error).toEqual({ path: "/etc/nginx/bad.conf", line, message });
  });

  it("writes back what it read (arguments as written)", () => {
    const text = "server {\n    listen 80;\n    location / {\n        return 200 \"ok\\n\";\n    }\n}\n";
    const { nodes } = parseNginx(text, "a.conf");
    expect(serializeNginx(nodes)).toBe(text);
  });
});

describe("quoting (class 2: map keys that are the empty string)", () => {
  const websocket = `map $http_upgrade $connection_upgrade {\n    default upgrade;\n    '' close;\n}\nmap $arg_v $cache {\n    "" "no-store";\n    "~^a b" "x\\"y";\n}\n`;

  it("writes every key and value back so that it reads the same", () => {
    const { nodes } = parseNginx(websocket, "maps.conf");
    const again = parseNginx(serializeNginx(nodes), "again.conf").nodes;
    const values = (ns: typeof nodes) => ns.map((m) => m.block!.map((d) => [d.name, ...d.args.map(unquote)]));
    expect(values(again)).toEqual([[["default", "upgrade"], ["", "close"]], [["", "no-store"], ["~^a b", 'x"y']]]);
    expect(serializeNginx(nodes)).toContain('    "" close;\n');
  });

  it("is accepted by the real nginx -t", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nginx-syntax-"));
    const { nodes } = parseNginx(websocket, "maps.conf");
    writeFileSync(path.join(dir, "nginx.conf"), `error_log stderr;\npid ${dir}/nginx.pid;\nevents {}\nhttp {\n${serializeNginx(nodes)}}\n`);
    const run = spawnSync("nginx", ["-t", "-q", "-p", `${dir}/`, "-c", path.join(dir, "nginx.conf"), "-e", "stderr"], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("reads escapes as nginx does: quotes and backslashes stand for themselves, other backslashes stay", () => {
    expect(unquote(String.raw`"\.php$"`)).toBe(String.raw`\.php$`);
    expect(unquote(String.raw`'it\'s'`)).toBe("it's");
    expect(unquote(String.raw`"a\\b\tc"`)).toBe("a\\b\tc");
    for (const v of ["", "plain", "two words", 'q"uote', "back\\slash", "#hash", "semi;colon", "{brace}"]) expect(unquote(quoteWord(v))).toBe(v);
    expect(quoteWord("upgrade")).toBe("upgrade");
  });
});
