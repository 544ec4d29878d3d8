import { describe, expect, it } from "vitest";
import { parseContents } from "./contents.js";

describe("parseContents", () => {
  it("reads dir, obj and sym lines, taking fixed fields from the right so paths may hold spaces", () => {
    const text = [
      "dir /usr/share/doc/nginx-1.24.0-r1",
      "obj /etc/nginx/nginx.conf 0123456789abcdef0123456789abcdef 1696000000",
      "obj /usr/share/doc/x/Release Notes 1.txt ffffffffffffffffffffffffffffffff 1696000001",
      "sym /usr/lib64/libfoo.so -> libfoo.so.1 1696000002",
      "sym /opt/My App/current -> /opt/My App/releases/2 1696000003",
    ].join("\n");
    const { entries, problems } = parseContents(text, "CONTENTS");
    expect(problems).toEqual([]);
    expect(entries).toEqual([
      { type: "dir", path: "/usr/share/doc/nginx-1.24.0-r1" },
      { type: "obj", path: "/etc/nginx/nginx.conf", md5: "0123456789abcdef0123456789abcdef", mtime: 1696000000 },
      { type: "obj", path: "/usr/share/doc/x/Release Notes 1.txt", md5: "ffffffffffffffffffffffffffffffff", mtime: 1696000001 },
      { type: "sym", path: "/usr/lib64/libfoo.so", target: "libfoo.so.1", mtime: 1696000002 },
      { type: "sym", path: "/opt/My App/current", target: "/opt/My App/releases/2", mtime: 1696000003 },
    ]);
  });

  it("reports each malformed line with its number and reads on", () => {
    const text = "dir /usr\nobj /usr/bin/a not-an-md5 1\nobj /usr/bin/b 0123456789abcdef0123456789abcdef\nbogus line\nsym /x -> y notatime\nobj relative/path 0123456789abcdef0123456789abcdef 5\ndir /ok\n";
    const { entries, problems } = parseContents(text, "/var/db/pkg/a/b-1/CONTENTS");
    expect(entries.map((e) => e.path)).toEqual(["/usr", "/ok"]);
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6]);
    expect(problems[0]).toMatchObject({ path: "/var/db/pkg/a/b-1/CONTENTS", message: expect.stringContaining("malformed CONTENTS line") });
  });
});
