import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers.js";
import { LegacyRoot } from "./legacy-root.js";

describe("LegacyRoot", () => {
  it("resolves absolute and relative symlinks below the root, never on the machine it runs on", () => {
    const dir = tempDir("legacy-root-");
    mkdirSync(path.join(dir, "srv/shop"), { recursive: true });
    mkdirSync(path.join(dir, "etc/nginx/sites-enabled"), { recursive: true });
    mkdirSync(path.join(dir, "etc/nginx/sites-available"), { recursive: true });
    writeFileSync(path.join(dir, "srv/shop/nginx.conf"), "server { listen 80; }\n");
    writeFileSync(path.join(dir, "etc/nginx/sites-available/blog"), "server { listen 81; }\n");
    symlinkSync("/srv/shop/nginx.conf", path.join(dir, "etc/nginx/sites-enabled/shop"));
    symlinkSync("../sites-available/blog", path.join(dir, "etc/nginx/sites-enabled/blog"));
    symlinkSync("/etc/passwd", path.join(dir, "etc/passwd-link")); // the copy has no /etc/passwd
    symlinkSync("/../../../etc/hostname", path.join(dir, "etc/escape"));
    const root = new LegacyRoot(dir);
    expect(root.read("/etc/nginx/sites-enabled/shop")).toBe("server { listen 80; }\n");
    expect(root.read("/etc/nginx/sites-enabled/blog")).toBe("server { listen 81; }\n");
    expect(root.read("/etc/passwd-link")).toBeUndefined();
    expect(root.read("/etc/escape")).toBeUndefined();
    expect(root.glob("/etc/nginx/sites-enabled/*")).toEqual(["/etc/nginx/sites-enabled/blog", "/etc/nginx/sites-enabled/shop"]);
  });

  it("expands globs per path segment, sorted", () => {
    const dir = tempDir("legacy-root-");
    for (const f of ["b.conf", "a.conf", "c.txt", ".hidden.conf"]) {
      mkdirSync(path.join(dir, "etc/nginx/conf.d"), { recursive: true });
      writeFileSync(path.join(dir, "etc/nginx/conf.d", f), "");
    }
    expect(new LegacyRoot(dir).glob("/etc/nginx/conf.d/*.conf")).toEqual(["/etc/nginx/conf.d/a.conf", "/etc/nginx/conf.d/b.conf"]);
    expect(new LegacyRoot(dir).glob("/etc/*/conf.d/[ab].conf")).toEqual(["/etc/nginx/conf.d/a.conf", "/etc/nginx/conf.d/b.conf"]);
  });
});
