import { describe, expect, it } from "vitest";
import { parseNginx, serializeNginx, unquote } from "./nginx-syntax.js";

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
