import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers.js";
import { writeLegacyHost } from "../../test/support/legacy-host.js";
import { takeInventory } from "./inventory.js";
import { makePlan, type Plan } from "./plan.js";


describe("plan from the nginx part of a legacy host", () => {
  let out: string;
  let plan: Plan;
  let inventory: ReturnType<typeof takeInventory>;
  beforeAll(async () => {
    const root = tempDir("legacy-");
    writeLegacyHost(root, { services: { postgresql: false, redis: false, memcached: false, php: false } });
    out = tempDir("plan-");
    inventory = takeInventory({ root });
    plan = await makePlan({ inventory, out });
  });

  it("proposes the webgateway role with the legacy values the component knows", () => {
    const host = JSON.parse(readFileSync(path.join(out, "host.json"), "utf8"));
    expect(host).toMatchObject({
      name: "web17",
      roles: ["webgateway"],
      // nginx's own defaults where the legacy file said nothing (keepalive 75 s, 1m bodies, gzip off): what runs today.
      settings: { nginx: { worker_processes: 2, worker_connections: 2048, keepalive_timeout: 75, client_max_body_size: "32m", gzip: false, error_log_level: "info" } },
    });
    expect(host.settings.nginx.server_tokens).toBeUndefined(); // off, as the platform's default
  });

  it("writes one snippet per server block, in the legacy order, includes inlined, plus the http-level rest", () => {
    expect(readdirSync(path.join(out, "local/nginx"))).toEqual(["00-http.conf", "01-localhost.conf", "02-shop.example.com.conf", "03-static.example.com.conf"]);
    const shop = readFileSync(path.join(out, "local/nginx/02-shop.example.com.conf"), "utf8");
    expect(shop).toContain("server_name shop.example.com www.shop.example.com;");
    expect(shop).toContain("fastcgi_param REQUEST_METHOD $request_method;"); // from include fastcgi_params
    expect(shop).not.toContain("include");
    // Log files would be opened by nginx -t on the building machine: left out, with the reason.
    expect(shop).not.toContain("/var/log/nginx");
    expect(plan.leftOut).toContainEqual(expect.objectContaining({ key: "access_log", value: "/var/log/nginx/shop.access_log main", from: "/etc/nginx/vhosts.d/shop.conf:7" }));
    const http = readFileSync(path.join(out, "local/nginx/00-http.conf"), "utf8");
    expect(http).toContain("upstream php {");
    expect(http).toContain("log_format main");
    expect(http).not.toMatch(/^(sendfile|types|default_type|user|worker_processes)\b/m);
  });

  it("lists what it left out, each with its reason", () => {
    const keys = plan.leftOut.map((l) => `${l.component} ${l.key}`);
    expect(keys).toEqual(expect.arrayContaining(["nginx user", "nginx sendfile", "nginx use"]));
    expect(plan.leftOut.find((l) => l.key === "user")).toMatchObject({ value: "nginx nginx", from: "/etc/nginx/nginx.conf:1" });
  });

  it("builds, with the project's own build (nginx -t included), and leaves only the plan behind", () => {
    expect(plan.build).toMatchObject({ ok: true, generation: expect.stringMatching(/^[0-9a-z]{32}-system-web17$/) });
    expect(existsSync(path.join(out, "local/nginx/README.txt"))).toBe(false);
  });

  it("is reproducible: the same inventory planned again writes the same description and snippets", async () => {
    const dir = tempDir("plan-");
    const again = await makePlan({ inventory, out: dir });
    expect(again.build.ok).toBe(true);
    // (The generation's hash also depends on the state directory the build ran in: a throwaway one.)
    for (const f of ["host.json", "carry-over.list", ...plan.snippets.map((s) => s.file)]) {
      expect(readFileSync(path.join(dir, f), "utf8"), f).toBe(readFileSync(path.join(out, f), "utf8"));
    }
  });

  it("names the blockers and the data to carry over with sizes", () => {
    expect(plan.blockers.map((b) => b.kind)).toEqual(["home-links-system", "home-links-system", "writes-install-dir"]);
    expect(plan.data).toContainEqual(expect.objectContaining({ path: "/var/www/shop/public/uploads", bytes: 50_000 }));
    expect(readFileSync(path.join(out, "carry-over.list"), "utf8")).toContain("/home/alice\n");
  });

  it("proposes a user profile for each home that links the system's python or libc, naming what goes in it", () => {
    expect(plan.profiles).toEqual([
      { user: "alice", home: "/home/alice", contents: [{ provides: "/usr/bin/python3.11", package: "dev-lang/python-3.11.5", for: ["/home/alice/venv"] }], install: "congruent profile switch --store nix --user alice --file /home/alice/default.nix" },
      { user: "bob", home: "/home/bob", contents: [{ provides: "/lib64/ld-linux-x86-64.so.2", package: "sys-libs/glibc-2.37-r7", for: ["/home/bob/bin/invoice-tool"] }], install: "congruent profile switch --store nix --user bob --file /home/bob/default.nix" },
    ]);
    expect(JSON.parse(readFileSync(path.join(out, "plan.json"), "utf8")).profiles).toEqual(plan.profiles);
  });
});

describe("plan of the whole legacy host (nginx, PostgreSQL 15, Redis, memcached, php-fpm)", () => {
  let out: string;
  let plan: Plan;
  beforeAll(async () => {
    const root = tempDir("legacy-");
    writeLegacyHost(root);
    out = tempDir("plan-");
    plan = await makePlan({ inventory: takeInventory({ root }), out });
  });

  it("proposes a role per service found, with its version", () => {
    expect(plan.description.roles).toEqual(["webgateway", "postgresql15", "redis", "memcached"]);
    expect(plan.blockers).toContainEqual(expect.objectContaining({ kind: "no-role", subject: "dev-lang/php" }));
  });

  it("migrates every non-default PostgreSQL setting, auto.conf winning, and leaves the platform's own out", () => {
    const conf = readFileSync(path.join(out, "local/postgresql/migrated.conf"), "utf8");
    expect(conf).toContain("shared_buffers = '512MB'");
    expect(conf).toContain("work_mem = '32MB'");
    // --describe-config prints FALSE as every boolean's default: a set boolean is always kept.
    expect(conf).toContain("autovacuum = 'off'");
    expect(conf).not.toContain("'16MB'");
    expect(conf).toContain("listen_addresses = 'localhost'"); // the platform's is 127.0.0.1: keep ::1 too
    expect(conf).not.toMatch(/^(data_directory|hba_file|unix_socket_directories)/m);
    expect(plan.leftOut.filter((l) => l.component === "postgresql").map((l) => l.key).sort()).toEqual(["data_directory", "hba_file", "unix_socket_directories", "wal_level"]);
  });

  it("names the Redis password as a secret to carry over and never copies its value", () => {
    expect(plan.secrets).toEqual([{ component: "redis", name: "requirepass", from: "/etc/redis/redis.conf:21", carryTo: "<state>/secrets/redis.password" }]);
    // grep exits 1 when nothing matches: the value is nowhere in the plan directory.
    expect(() => execFileSync("grep", ["-r", "-l", "s3cr3t-legacy-pass", out])).toThrow(expect.objectContaining({ status: 1 }));
  });

  it("writes memcached.json from conf.d", () => {
    expect(JSON.parse(readFileSync(path.join(out, "local/memcached/memcached.json"), "utf8"))).toEqual({ memory: 128, connections: 2048, port: 11211, listen: "127.0.0.1", threads: 4, max_item_size: "2m" });
  });

  it("builds with every role", () => {
    expect(plan.build).toMatchObject({ ok: true });
  });

});

describe("a legacy nginx that serves more than HTTP", () => {
  it("names its stream {} block as a blocker, with where it is and what it listens on, instead of dropping it", async () => {
    const root = tempDir("legacy-");
    const conf = "user nginx nginx;\nevents { worker_connections 1024; }\nstream {\n  upstream pg { server 10.0.0.20:5432; }\n  server { listen 127.0.0.1:6432; proxy_pass pg; }\n}\nhttp {\n  server { listen 80; server_name tcp.example.com; root /var/www/tcp; }\n}\n";
    writeLegacyHost(root, { services: { postgresql: false, redis: false, memcached: false, php: false }, nginx: { conf, files: {} } });
    const plan = await makePlan({ inventory: takeInventory({ root }), out: tempDir("plan-"), build: false });
    expect(plan.blockers).toContainEqual({
      kind: "platform-lacks",
      subject: "nginx stream",
      detail: "stream {} (/etc/nginx/nginx.conf:3, listening on 127.0.0.1:6432) proxies or serves TCP/UDP; the platform's nginx (webgateway) serves HTTP only: run it as a service of its own, or give the platform a role for it",
    });
    expect(plan.leftOut.map((l) => l.key)).not.toContain("stream");
  });

  it("names directives of modules the platform's nginx lacks (asked of nginx itself), a blocker per family", async () => {
    const root = tempDir("legacy-");
    const conf = "user nginx nginx;\nevents { worker_connections 1024; }\nhttp {\n  map $host $x { default 0; more_things 1; }\n  server {\n    listen 80;\n    root /var/www/app;\n    passenger_enabled on;\n    passenger_ruby /usr/bin/ruby;\n    location / { brotli on; brotli_types text/css; more_set_headers \"Server: x\"; }\n  }\n}\n";
    writeLegacyHost(root, { services: { postgresql: false, redis: false, memcached: false, php: false }, nginx: { conf, files: {} } });
    const plan = await makePlan({ inventory: takeInventory({ root }), out: tempDir("plan-"), build: false });
    const lacks = plan.blockers.filter((b) => b.kind === "platform-lacks");
    expect(lacks.map((b) => b.subject)).toEqual(["nginx module for passenger*", "nginx module for brotli*", "nginx module for more*"]);
    expect(lacks[0]!.detail).toBe("passenger_enabled, passenger_ruby (/etc/nginx/nginx.conf:8, /etc/nginx/nginx.conf:9): the platform's nginx has no module for them (unknown directive); drop them or do the same with what the platform's nginx has");
    // A map's entries are data, not directives: `more_things` is not asked about.
    expect(lacks[2]!.detail).toMatch(/^more_set_headers \(\/etc\/nginx\/nginx\.conf:10\)/);
  });
});

describe("content the legacy nginx workers read through their own group", () => {
  /** Everything below `dir` owned by uid `uid`, gid `gid`, directories `dirMode`, files `fileMode`. */
  const restrict = (dir: string, uid: number, gid: number, dirMode: number, fileMode: number) => {
    chownSync(dir, uid, gid);
    chmodSync(dir, statSync(dir).isDirectory() ? dirMode : fileMode);
    if (statSync(dir).isDirectory()) for (const e of readdirSync(dir)) restrict(path.join(dir, e), uid, gid, dirMode, fileMode);
  };
  const planOf = async (uid: number, gid: number) => {
    const root = tempDir("legacy-");
    writeLegacyHost(root, { services: { postgresql: false, redis: false, memcached: false, php: false } });
    restrict(path.join(root, "srv/static"), uid, gid, 0o750, 0o640);
    return makePlan({ inventory: takeInventory({ root }), out: tempDir("plan-"), build: false });
  };

  it("is a blocker naming the path, an example with its owner and mode, and what to do", async () => {
    // gid 998: the legacy host's nginx group (the workers' `user nginx nginx`).
    const plan = await planOf(0, 998);
    expect(plan.blockers.filter((b) => b.kind === "content-unreadable")).toEqual([
      {
        kind: "content-unreadable",
        subject: "content only the legacy nginx user can read",
        detail: expect.stringMatching(/^root \/srv\/static \(\/etc\/nginx\/[^)]+:\d+\): \d+ files or directories others cannot read, e\.g\. \/srv\/static \(uid 0, gid 998, mode 0750\); the legacy workers read them as nginx, the platform's run as settings\.nginx\.user \(www-data\)/),
        path: "/srv/static",
      },
    ]);
  });

  it("is not one where the legacy workers could not read it either (both hosts answer 403 alike)", async () => {
    const plan = await planOf(1000, 1000); // alice's, 0750/0640: nginx is neither
    expect(plan.blockers.filter((b) => b.kind === "content-unreadable")).toEqual([]);
  });
});

// Debian's redis-server is built without jemalloc: it refuses activedefrag, which Gentoo's takes.
const defrag = spawnSync("timeout", ["3", "redis-server", "--port", "0", "--activedefrag", "yes"], { encoding: "utf8" });
const refusesDefrag = /Active defragmentation cannot be enabled/.test(`${defrag.stdout}${defrag.stderr}`);

describe.skipIf(!refusesDefrag)(`a legacy setting the platform's server refuses${refusesDefrag ? "" : " (skipped: this redis-server takes activedefrag)"}`, () => {
  it("is a named blocker quoting the server, not only a plan that does not build", async () => {
    const root = tempDir("legacy-");
    writeLegacyHost(root, { services: { nginx: false, postgresql: false, redis: true, memcached: false, php: false }, redisConf: "bind 127.0.0.1\nport 6379\nmaxmemory 64mb\nactivedefrag yes\n", shop: false, homeSoftware: false });
    const plan = await makePlan({ inventory: takeInventory({ root }), out: tempDir("plan-") });
    expect(plan.build.ok).toBe(false);
    expect(plan.blockers).toContainEqual({
      kind: "platform-lacks",
      subject: "redis activedefrag",
      detail: expect.stringMatching(/^activedefrag yes \(local\/redis\/migrated\.conf:\d+, from \/etc\/redis\/redis\.conf\): the platform's redis-server refuses it: Active defragmentation cannot be enabled/),
    });
  });
});
