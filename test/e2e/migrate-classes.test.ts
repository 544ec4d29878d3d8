import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { OWNED as REDIS_OWNED } from "../../src/components/redis/index.js";
import { takeInventory } from "../../src/migrate/inventory.js";
import { makePlan, type Plan } from "../../src/migrate/plan.js";
import { shadowDiff } from "../../src/migrate/shadow-diff.js";
import { canSandbox } from "../../src/migrate/verify/sandbox.js";
import { cli, tempDir } from "../helpers.js";
import { base } from "../support/corpus.js";
import { testTls } from "../support/corpus-host.js";
import { writeLegacyHost } from "../support/legacy-host.js";
import { hasPostgres } from "../support/postgres.js";

/**
 * One test per failure class of issue 17, each on a legacy host that has the class's case and
 * nothing else unusual. The host of the first group is also verified by behaviour: its legacy
 * nginx and its migrated one answer the same requests.
 */
const sandbox = canSandbox();
const skipWhy = sandbox.ok ? "" : ` (skipped: ${sandbox.why})`;

// Gentoo's stock nginx.conf, including conf.d/ as the admins of the fleet do.
const stock = (extra = "") => base("nginx.conf").replace(/\n\}\n?$/, `\n${extra}\tinclude /etc/nginx/conf.d/*.conf;\n}\n`);

function legacy(site: string, more: Parameters<typeof writeLegacyHost>[1] = {}): string {
  const root = tempDir("classes-");
  writeLegacyHost(root, {
    shop: false,
    homeSoftware: false,
    nginx: { conf: stock(), files: { "/etc/nginx/conf.d/site.conf": site }, packageFiles: { "/etc/nginx/mime.types": base("mime.types"), "/etc/nginx/fastcgi_params": base("fastcgi_params") } },
    dirs: ["/run", "/var/log/nginx"],
    links: { "/var/run": "../run" },
    ...more,
    services: { php: false, postgresql: false, redis: false, memcached: false, ...more.services },
  });
  return root;
}

async function planOf(root: string): Promise<{ plan: Plan; out: string }> {
  const out = tempDir("classes-plan-");
  return { plan: await makePlan({ inventory: takeInventory({ root }), out }), out };
}

const snippets = (out: string) => readdirSync(path.join(out, "local/nginx")).map((f) => readFileSync(path.join(out, "local/nginx", f), "utf8")).join("\n");

describe.skipIf(!sandbox.ok)(`classes 1, 2, 3, 5, 9: a legacy site that a plan once changed for clients${skipWhy}`, () => {
  let root: string;
  let out: string;
  let plan: Plan;
  beforeAll(async () => {
    const tls = testTls();
    const site = `map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
}
map $arg_v $cache_control {
    "" "no-store";
    default "public";
}
upstream app { server 127.0.0.1:3000; }
server {
    listen 443 ssl;
    server_name secure.example.com;
    ssl_certificate /etc/ssl/site/site.crt;
    ssl_certificate_key /etc/ssl/site/site.key;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; add_header Cache-Control $cache_control; }
}
server {
    listen 80;
    server_name static.example.com;
    location / { root html; }
    location /files/ { }
}
`;
    // The stock localhost server stays: the admin's page is in /var/www/localhost/htdocs (class 3).
    root = legacy(site, {
      files: {
        "/etc/ssl/site/site.crt": tls.cert,
        "/etc/ssl/site/site.key": tls.key,
        "/var/www/localhost/htdocs/index.html": "<h1>the admin's own page</h1>\n",
        "/usr/html/index.html": "<h1>under the prefix</h1>\n",
        "/usr/html/fonts/a.woff2": Buffer.alloc(300, 1),
        "/usr/html/files/report.json": '{"ok":true}\n',
      },
    });
    ({ plan, out } = await planOf(root));
  });

  it("class 1: a TLS server builds, judged as on the new host, with its certificate and key carried over", () => {
    expect(plan.build).toMatchObject({ ok: true, judged: expect.stringMatching(/^as on the new host/) });
    expect(plan.data.map((d) => d.path)).toEqual(expect.arrayContaining(["/etc/ssl/site/site.crt", "/etc/ssl/site/site.key"]));
  });

  it("class 2: map keys that are the empty string are written back quoted, and the shadow diff sees them lost", () => {
    const http = readFileSync(path.join(out, "local/nginx/00-http.conf"), "utf8");
    expect(http).toContain('    "" close;');
    expect(http).toContain('    "" "no-store";');
    expect(shadowDiff({ root, plan: out }).empty).toBe(true);
    const broken = path.join(out, "local/nginx/00-http.conf");
    writeFileSync(broken, http.replace('    "" close;', "    close;"));
    try {
      expect(shadowDiff({ root, plan: out }).differences.map((d) => d.key)).toEqual(expect.arrayContaining([expect.stringContaining('map $http_upgrade $connection_upgrade › ""')]));
    } finally {
      writeFileSync(broken, http);
    }
  });

  it("class 3: /var/www/localhost is the admin's site, carried over", () => {
    expect(plan.data.map((d) => d.path)).toContain("/var/www/localhost");
  });

  it("class 5: nginx's default root and a relative root are written out under Gentoo's prefix, and what is there is carried", () => {
    expect(snippets(out)).toMatch(/root \/usr\/html;/);
    expect(snippets(out)).not.toMatch(/root html;/);
    expect(plan.data.map((d) => d.path)).toContain("/usr/html");
  });

  it("class 9: the legacy Keep-Alive header value and content types are kept in each server", () => {
    expect(snippets(out)).toContain("keepalive_timeout 75 20;");
    expect(snippets(out)).toMatch(/types \{[^}]*application\/font-woff woff;/s);
  });

  it("and by behaviour: both hosts answer every request alike (migrate verify exits 0)", async () => {
    const r = await cli(["migrate", "verify", "--root", root, "--plan", out, "--json"]);
    const report = JSON.parse(r.stdout);
    expect(report.differences).toEqual([]);
    expect(r.code).toBe(0);
    expect(report.requests).toBeGreaterThan(40);
    expect(report.assumptions).toEqual(expect.arrayContaining([expect.stringContaining("http 127.0.0.1:3000")]));
  });

  it("and a plan that lost them answers differently: the Keep-Alive header, a content type, the map's key (exit 2)", async () => {
    const tampered = tempDir("classes-tampered-");
    execFileSync("cp", ["-a", `${out}/.`, tampered]);
    for (const f of readdirSync(path.join(tampered, "local/nginx"))) {
      const file = path.join(tampered, "local/nginx", f);
      writeFileSync(file, readFileSync(file, "utf8").replace(/keepalive_timeout 75 20;/g, "").replace(/ {4}types \{[^}]*\}\n/gs, "").replace('"" "no-store";', '"x" "no-store";'));
    }
    const r = await cli(["migrate", "verify", "--root", root, "--plan", tampered, "--json"]);
    expect(r.code).toBe(2);
    const fields = new Set(JSON.parse(r.stdout).differences.map((d: { field: string }) => d.field));
    expect([...fields]).toEqual(expect.arrayContaining(["header keep-alive", "header content-type", "header cache-control"]));
  });
});

describe(`class 4: a directory the configuration creates things in`, () => {
  it("is listed to create on the new host (directories.list), and the plan builds", async () => {
    const { plan, out } = await planOf(legacy("proxy_cache_path /var/nginx/cache keys_zone=one:10m;\nserver { listen 80; server_name cache.example.com; location / { proxy_cache one; proxy_pass http://127.0.0.1:8080; } }\n", { dirs: ["/run", "/var/nginx/cache"] }));
    expect(plan.directories.map((d) => d.path)).toEqual(["/var/nginx"]);
    expect(readFileSync(path.join(out, "directories.list"), "utf8")).toBe("/var/nginx\n");
    if (sandbox.ok) expect(plan.build).toMatchObject({ ok: true });
  });
});

describe.skipIf(!hasPostgres)("classes 6 and 7: PostgreSQL parameters the server accepts, a locale the host lacks", () => {
  const site = "server { listen 80; server_name db.example.com; }\n";
  it("class 6: extension parameters and those --describe-config leaves out are accepted and migrated", async () => {
    const conf = "data_directory = '/var/lib/postgresql/15/data'\nshared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.max = 2000\npg_stat_statements.track = all\napplication_name = 'legacy'\ntrace_sort = on\njit_expressions = off\nremove_temp_files_after_crash = off\n";
    const { plan, out } = await planOf(legacy(site, { services: { postgresql: true }, postgresql: { conf, auto: null } }));
    const migrated = readFileSync(path.join(out, "local/postgresql/migrated.conf"), "utf8");
    for (const p of ["pg_stat_statements.max", "pg_stat_statements.track", "application_name", "trace_sort", "jit_expressions", "remove_temp_files_after_crash"]) expect(migrated).toContain(`${p} = `);
    expect(plan.leftOut.filter((l) => /not a parameter/.test(l.reason))).toEqual([]);
    expect(plan.build).toMatchObject({ ok: true });
  });

  it("class 7: a locale the new host lacks is a named blocker, and the build says which file and line", async () => {
    const conf = "lc_messages = 'xx_XX.UTF-8'\nlc_time = 'xx_XX.UTF-8'\n";
    const { plan } = await planOf(legacy(site, { services: { postgresql: true }, postgresql: { conf, auto: null } }));
    expect(plan.blockers).toEqual([expect.objectContaining({ kind: "platform-lacks", subject: "locale xx_XX.UTF-8", detail: expect.stringMatching(/^lc_messages \(\/etc\/postgresql-15\/postgresql\.conf:1\), lc_time \(.*:2\): locale "xx_XX\.UTF-8" is not installed/) })]);
    expect(plan.build).toMatchObject({ ok: false, error: expect.stringMatching(/migrated\.conf:\d+: lc_messages: locale "xx_XX\.UTF-8" is not installed on this host/) });
  });
});

describe("class 8: code directories named like data", () => {
  it("are the application (no blocker); a directory of uploads is (a blocker)", () => {
    const app = { "/var/www/cloud/.git/HEAD": "ref: refs/heads/main\n", "/var/www/cloud/apps/files/lib/View.php": "<?php class View {}\n", "/var/www/cloud/apps/files/img/folder.svg": "<svg/>\n" };
    const code = takeInventory({ root: legacy("server { listen 80; root /var/www/cloud; }\n", { files: app }) });
    expect(code.blockers).toEqual([]);
    // Uploads, and stylesheets the application aggregated at run time (Drupal's files/): data.
    const data = { "/var/www/cloud/data/alice/photo.jpg": Buffer.alloc(900, 3), "/var/www/cloud/sites/files/css/agg.css": "a{}\n" };
    const uploads = takeInventory({ root: legacy("server { listen 80; root /var/www/cloud; }\n", { files: { ...app, ...data } }) });
    expect(uploads.blockers.map((b) => [b.kind, b.path])).toEqual([["writes-install-dir", "/var/www/cloud/data"], ["writes-install-dir", "/var/www/cloud/sites/files"]]);
  });
});

describe("class 10: carry-over never overwrites the new host's own files", () => {
  it("lists data, not accounts, host name, init scripts or conf.d; accounts are listed to create", async () => {
    const root = tempDir("classes-");
    writeLegacyHost(root, { services: { php: false } });
    const { plan, out } = await planOf(root);
    const list = readFileSync(path.join(out, "carry-over.list"), "utf8").split("\n");
    expect(list.filter((p) => /^\/etc\/(passwd|group|shadow|gshadow|hostname|conf\.d\/|init\.d\/|runlevels\/)/.test(p))).toEqual([]);
    expect(list).toEqual(expect.arrayContaining(["/home/alice", "/var/lib/postgresql/15/data", "/etc/ssh/ssh_host_ed25519_key"]));
    expect(plan.accounts.map((a) => a.name)).toEqual(["alice", "shop", "bob"]);
    expect(plan.review.map((r) => r.path)).toContain("/etc/ssh/sshd_config");
  });
});

describe("class 11: one redis.conf language, the component's", () => {
  it("reads 'it\\'s' as redis-server does, and leaves the platform's directives out with the component's reasons", async () => {
    mkdirSync(tempDir(), { recursive: true });
    const redisConf = "bind 127.0.0.1\nport 6379\ndir /var/lib/redis/\nmasteruser 'it\\'s-the-replica'\nrequirepass 'it\\'s-a-s3cret'\nmaxmemory 64mb\n";
    const root = legacy("server { listen 80; }\n", { services: { redis: true }, redisConf });
    const inv = takeInventory({ root });
    expect(inv.problems.filter((p) => p.path.startsWith("/etc/redis"))).toEqual([]);
    const { plan, out } = await planOf(root);
    expect(readFileSync(path.join(out, "local/redis/migrated.conf"), "utf8")).toContain(`masteruser "it's-the-replica"`);
    expect(plan.secrets).toEqual([expect.objectContaining({ name: "requirepass" })]);
    expect(plan.leftOut.find((l) => l.key === "dir")?.reason).toContain(REDIS_OWNED.dir);
    if (sandbox.ok) expect(plan.build).toMatchObject({ ok: true });
  });
});
