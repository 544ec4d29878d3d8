import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers.js";
import { writeLegacyHost } from "../../test/support/legacy-host.js";
import { takeInventory } from "./inventory.js";
import { makePlan } from "./plan.js";
import { shadowDiff } from "./shadow-diff.js";

let root: string;
let out: string;

beforeEach(async () => {
  root = tempDir("legacy-");
  writeLegacyHost(root);
  out = tempDir("plan-");
  // The diff is static: it needs the plan's files, not a build.
  await makePlan({ inventory: takeInventory({ root }), out, build: false });
});

const edit = (p: string, from: string | RegExp, to: string) => {
  const file = path.join(root, p);
  writeFileSync(file, readFileSync(file, "utf8").replace(from, to));
};

describe("shadow diff", () => {
  it("is empty for everything the plan migrated, and lists what it left out with the reason", () => {
    const d = shadowDiff({ root, plan: out });
    expect(d.differences).toEqual([]);
    expect(d.empty).toBe(true);
    expect(d.components.map((c) => c.component)).toEqual(["nginx", "postgresql", "redis", "memcached"]);
    for (const c of d.components) expect(c.compared).toBeGreaterThan(5);
    expect(d.leftOut).toContainEqual(expect.objectContaining({ component: "redis", key: "requirepass", reason: expect.stringContaining("secret") }));
    expect(d.leftOut).toContainEqual(expect.objectContaining({ component: "postgresql", key: "data_directory", reason: expect.stringContaining("owned by the platform") }));
  });

  it("normalises units: 32768kB on the legacy host is the plan's 32MB", () => {
    edit("var/lib/postgresql/15/data/postgresql.auto.conf", "work_mem = '32MB'", "work_mem = '32768kB'");
    edit("etc/redis/redis.conf", "maxmemory 256mb", "maxmemory 268435456");
    expect(shadowDiff({ root, plan: out }).differences).toEqual([]);
  });

  it("shows setting by setting what the cut-over would change when the legacy host moved on", () => {
    edit("var/lib/postgresql/15/data/postgresql.auto.conf", "work_mem = '32MB'", "work_mem = '64MB'");
    edit("etc/conf.d/memcached", 'MEMUSAGE="128"', 'MEMUSAGE="256"');
    edit("etc/nginx/nginx.conf", "worker_processes 2;", "worker_processes 4;");
    const d = shadowDiff({ root, plan: out });
    expect(d.differences).toEqual([
      { component: "nginx", key: "nginx setting worker_processes", legacy: "4", congruent: "2", reason: "the values differ" },
      { component: "postgresql", key: "postgresql work_mem", legacy: String(64 * 1024 * 1024) + "B", congruent: String(32 * 1024 * 1024) + "B", reason: "the values differ" },
      { component: "memcached", key: "memcached memory", legacy: "256", congruent: "128", reason: "the values differ" },
    ]);
    expect(d.empty).toBe(false);
  });

  it("names a role on one side only", async () => {
    const { rmSync } = await import("node:fs");
    rmSync(path.join(root, "etc/runlevels/default/memcached"));
    const d = shadowDiff({ root, plan: out });
    expect(d.differences).toEqual([{ component: "memcached", key: "role memcached", legacy: null, congruent: "runs", reason: "the plan has this role; the legacy host does not run it (any more)" }]);
  });

  it("compares server blocks directive by directive, order inside a block not mattering", () => {
    // Same directives, another order: no difference.
    edit("etc/nginx/vhosts.d/static.conf", "\tlisten 8080;\n\tserver_name static.example.com;", "\tserver_name static.example.com;\n\tlisten 8080;");
    expect(shadowDiff({ root, plan: out }).differences).toEqual([]);
    // Another value, and a server block the plan does not know.
    edit("etc/nginx/vhosts.d/static.conf", "root /srv/static;", "root /srv/static-v2;");
    appendFileSync(path.join(root, "etc/nginx/conf.d/status.conf"), "server {\n\tlisten 8082;\n\tserver_name new.example.com;\n}\n");
    const d = shadowDiff({ root, plan: out });
    expect(d.differences).toContainEqual({ component: "nginx", key: "nginx server 8080 static.example.com › root", legacy: "/srv/static-v2", congruent: "/srv/static", reason: "the values differ" });
    expect(d.differences).toContainEqual(expect.objectContaining({ key: "nginx server 8082 new.example.com", legacy: "{ }", congruent: null }));
  });
});
