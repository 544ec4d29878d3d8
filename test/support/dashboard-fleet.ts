/**
 * A small fleet for the dashboard's browser tests and its screenshot, put into a running
 * directory through its /v1 API as the admin and as each host's agent would: hosts in three
 * roles, a channel with two releases, reports of every kind (plans, deferred restarts,
 * failures sharing one cause, CVE findings) and three legacy hosts' inventories.
 */
export interface SeededFleet {
  tokens: Record<string, string>;
}

export async function seedFleet(url: string, adminToken: string, opts: { extraHosts?: string[] } = {}): Promise<SeededFleet> {
  const call = async (method: string, path: string, body: unknown, token = adminToken) => {
    const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, unknown>>;
  };
  await call("POST", "/v1/resource-groups", { name: "acme" });
  await call("POST", "/v1/channels", { name: "stable", canaryShare: 34 });
  await call("POST", "/v1/channels/stable/releases", { version: "2026.11.1", defaults: { webgateway: { nginx: { worker_processes: 1 } } } });
  await call("POST", "/v1/channels/stable/promote", { number: 1, canaryShare: 100 });
  await call("POST", "/v1/channels/stable/releases", { version: "2026.12.1", defaults: { webgateway: { nginx: { worker_processes: 2, keepalive_timeout: 30 } }, postgresql15: { postgresql: { work_mem: "16MB" } } } });

  const berlin = { schedule: "Sun 02:00-04:00", timezone: "Europe/Berlin" };
  const hosts: [string, string[], object?][] = [
    ["web2", ["webgateway"]],
    ["web3", ["webgateway"]],
    ["web4", ["webgateway"]],
    ["db1", ["postgresql15"], { maintenanceWindow: berlin, parameters: { fqdn: "db1.acme.example" } }],
    ["db2", ["postgresql15"], { maintenanceWindow: berlin }],
    ["db3", ["postgresql15"], { maintenanceWindow: { schedule: "daily 01:00-02:00", timezone: "UTC" } }],
    ["cache1", ["memcached"]],
    ...(opts.extraHosts ?? []).map((h): [string, string[]] => [h, ["webgateway"]]),
  ];
  const tokens: Record<string, string> = {};
  for (const [name, roles, extra] of hosts) tokens[name] = (await call("POST", "/v1/hosts", { name, resourceGroup: "acme", roles, channel: "stable", ...extra })).token as string;

  const at = new Date().toISOString();
  const report = (result: string, extra: object = {}) => ({ generation: `/var/lib/congruent/store/0c3v1x0yq6ngzq7ca8s0j8lbp6y1cl4f-system`, release: { channel: "stable", number: 1 }, result, startedAt: at, finishedAt: at, durations: { total: 840 }, ...extra });
  const nginx = { name: "nginx", state: "running", pid: 4242 };
  const pg = { name: "postgresql", state: "running", pid: 5151 };
  const post = (host: string, r: object) => call("POST", `/v1/hosts/${host}/reports`, r, tokens[host]);
  await post("web2", report("switched", { plan: [{ service: "nginx", action: "start", why: ["new service"] }], services: [nginx], vulnerabilities: { total: 2, whitelisted: 0, findings: [{ cve: "CVE-2024-3094", score: 10, package: "xz-5.6.0" }, { cve: "CVE-2023-44487", score: 7.5, package: "nginx-1.22.1" }] } }));
  await post("web2", report("unchanged", { services: [nginx] }));
  await post("web3", report("switched", { plan: [{ service: "nginx", action: "reload", why: ["worker_processes: 1 → 2 (reload)"] }], services: [nginx], vulnerabilities: { total: 1, whitelisted: 0, findings: [{ cve: "CVE-2023-44487", score: 7.5, package: "nginx-1.22.1" }] } }));
  await post("web4", report("unchanged", { services: [nginx], vulnerabilities: { total: 0, whitelisted: 0, findings: [] } }));
  await post("db1", report("deferred", { plan: [{ service: "postgresql", action: "reload", why: ["work_mem: 4MB → 16MB (reload)"] }], deferred: [{ service: "postgresql", action: "restart", why: ["shared_buffers: 128MB → 1GB (restart)"] }], services: [pg] }));
  for (const h of ["db2", "db3"]) await post(h, report("failed", { error: `postgresql: health check timed out after 30000 ms (connecting to ${h}.acme.example:5432)`, services: [{ ...pg, state: "stopped", pid: null }] }));
  await post("cache1", report("timeout", { error: "memcached: no answer on 127.0.0.1:11211 within 30 s" }));

  const inventory = (host: string, congruent: number, convergent: number, divergent: number, blockers: string[]) => ({
    format: "congruent-migrate-inventory/1",
    host,
    root: `/mnt/${host}`,
    generatedAt: at,
    facts: { packages: [], services: [], configs: [], users: [], data: [], nginx: null, postgresql: null, redis: null, memcached: null, cron: [] },
    items: [],
    blockers: blockers.map((subject) => ({ kind: "no-role", subject, detail: `${subject} has no role` })),
    summary: { items: congruent + convergent + divergent, congruent, convergent, divergent, dataBytes: 1 << 20, blockers: blockers.length, ready: blockers.length === 0 },
    problems: [],
  });
  await call("PUT", "/v1/migrate/inventories/legacy-web7", inventory("legacy-web7", 40, 0, 2, []));
  await call("PUT", "/v1/migrate/inventories/legacy-web8", inventory("legacy-web8", 30, 6, 4, []));
  await call("PUT", "/v1/migrate/inventories/legacy-db4", inventory("legacy-db4", 12, 3, 9, ["dev-lang/php"]));
  return { tokens };
}
