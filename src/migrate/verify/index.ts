import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { OWNED as PG_OWNED } from "../../components/postgresql.js";
import { OWNED as REDIS_OWNED } from "../../components/redis/index.js";
import { asUser, userIds } from "../../components/support/server-user.js";
import { CongruentError } from "../../errors.js";
import type { CarryOver } from "../carry-over.js";
import { LegacyRoot } from "../legacy-root.js";
import { readMemcached } from "../memcached-config.js";
import { readNginx } from "../nginx-config.js";
import { readServices } from "../openrc.js";
import type { Plan } from "../plan.js";
import { readPostgresql } from "../postgresql-config.js";
import { readRedis } from "../redis-config.js";
import type { Blocker } from "../types.js";
import { readVdb } from "../vdb.js";
import { compareAnswers, compareSettings, type BehaviourDifference } from "./compare.js";
import { findPostgres, inside, legacyMemcached, legacyNginx, legacyPostgres, legacyRedis, SCRATCH, type LegacyStart } from "./legacy-services.js";
import { deriveRequests, endpoints, wildcardAddresses } from "./requests.js";
import type { RunnerJob, RunnerResult, SettingsProbe } from "./runner.js";
import { canSandbox, legacyView, newHostView, sandboxArgv, sh, type View } from "./sandbox.js";
import { selfModule } from "./self.js";
import { upstreams, volatileNames } from "./upstreams.js";

/** What `migrate verify` reports (and prints with --json). */
export interface VerifyReport {
  root: string;
  plan: string;
  /** Requests sent to each host (the same ones, in the same order). */
  requests: number;
  /** Per component: what was compared and how much differs. */
  components: { component: string; compared: number; differ: number }[];
  differences: BehaviourDifference[];
  /** What the comparison takes as given, said so nobody has to guess. */
  assumptions: string[];
  /** Blockers the plan names: steps a person takes before the cut-over. */
  blockers: Blocker[];
  /** How long each host took to come up, answer and go down, in ms. */
  timings: { legacy: number; congruent: number };
  identical: boolean;
}

export interface VerifyOptions {
  root: string;
  plan: string;
  /** A state directory to switch the plan into (kept, so a second run reuses its database cluster); default: a throwaway one. */
  state?: string;
  onProgress?: (side: "legacy" | "congruent" | "verify", text: string) => void;
  /** Bound on each host's whole run (default 300 s). */
  timeoutMs?: number;
}

// Processes this run started, stopped by PID on an interrupt (each is an unshare whose namespace
// dies with it: everything started inside goes too), and its scratch directories, removed then.
const running = new Set<number>();
const scratch = new Set<string>();
let handlers = false;
function stopOnSignal(): void {
  if (handlers) return;
  handlers = true;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      for (const pid of running) kill(pid);
      for (const dir of scratch) removeScratch(dir);
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}

// A sandbox's last processes may still be going away when unshare returns: retry briefly.
const removeScratch = (dir: string) => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Verify a plan by behaviour: run the legacy host's servers from its tree (this host's programs,
 * the legacy configuration, in a namespace of their own) and the plan switched on this host as
 * the new host will be (its carry-over applied), side by side, each in a network namespace of
 * its own so both listen on the legacy addresses and ports; send both the same requests derived
 * from the configuration; ask both PostgreSQL, Redis and memcached for their settings; and list
 * every difference. Upstreams are stubs that echo what they get. Nothing below the legacy root,
 * the plan or this host's own directories is written; every server started is stopped by PID.
 *
 * @example const r = await verifyPlan({ root: "/mnt/web17", plan: "plans/web17" }); r.identical
 */
export async function verifyPlan(opts: VerifyOptions): Promise<VerifyReport> {
  const progress = opts.onProgress ?? (() => {});
  const can = canSandbox();
  if (!can.ok) throw new CongruentError("E_MIGRATE_VERIFY", `migrate verify ${can.why}: it runs both hosts in namespaces of their own`);
  if (!existsSync(opts.root) || !statSync(opts.root).isDirectory()) throw new CongruentError("E_MIGRATE_ROOT", `${opts.root}: not a directory (the legacy host's root)`);
  const planDir = path.resolve(opts.plan);
  const plan = readPlan(planDir);
  const host = JSON.parse(readFileSync(path.join(planDir, "host.json"), "utf8")) as { roles?: string[] };
  const roles = new Set(host.roles ?? []);

  const root = new LegacyRoot(opts.root);
  const vdb = readVdb(root);
  const services = readServices(root, vdb.owned).services;
  const has = (cat: string, name: string) => vdb.packages.some((p) => p.category === cat && p.name === name);
  const running_ = new Set(services.map((s) => s.name));
  const nginx = roles.has("webgateway") ? readNginx(root, vdb.owned).nginx : null;
  const pg = [...roles].some((r) => /^postgresql\d+$/.test(r)) ? readPostgresql(root, vdb.packages, services).postgresql : null;
  const redis = roles.has("redis") && has("dev-db", "redis") && running_.has("redis") ? readRedis(root, true).redis : null;
  const memcached = roles.has("memcached") && running_.has("memcached") ? readMemcached(root, true).memcached : null;

  const work = mkdtempSync(path.join(os.tmpdir(), "congruent-verify-"));
  scratch.add(work);
  // The sandboxes this run started: stopped by PID whatever happens (their namespaces die with them).
  const mine = new Set<number>();
  chmodSync(work, 0o755); // the servers run as their own users and reach their files through here
  stopOnSignal();
  try {
    const probes = nginx ? deriveRequests(root, nginx.http, nginx.servers) : [];
    const up = nginx ? upstreams(nginx.http, nginx.servers) : { targets: [], names: new Map<string, string>() };
    const volatile = nginx ? volatileNames(nginx.http, nginx.servers) : { upstream: [], response: [] };
    const wildcard = nginx ? wildcardAddresses(nginx.servers) : undefined;
    const listens = nginx ? nginx.servers.flatMap((s) => endpoints(s, wildcard)) : [];
    // A server of this same nginx is never replaced by a stub.
    const targets = up.targets.filter((t) => !listens.some((l) => l.host === t.host && l.port === t.port));
    const addresses = [...new Set([...listens.map((l) => l.host), ...targets.map((t) => t.host ?? "")])].filter((a) => a && !/^127\.|^::1$/.test(a));
    const pgPort = Number(pg?.settings.filter((s) => s.name === "port").at(-1)?.value ?? 5432);
    const redisPassword = randomBytes(12).toString("hex");
    const assumptions = [
      ...(targets.length ? [`upstreams answered by stubs echoing what they receive: ${targets.map((t) => `${t.kind} ${t.socket ? `unix:${t.socket}` : `${t.host}:${t.port}`}`).join(", ")}`] : []),
      ...[...up.names].map(([name, ip]) => `upstream host name ${name} resolves to ${ip} on both hosts`),
      ...(plan.deployments.length ? [`deployed again by their tool, the same files as now: ${plan.deployments.map((d) => d.path).join(", ")}`] : []),
      ...(pg ? ["PostgreSQL compared on fresh clusters (initdb as the platform does it): the settings, not the data"] : []),
      ...(volatile.upstream.length || volatile.response.length ? [`filled per request ($request_id, $msec…), compared by presence only: ${[...volatile.upstream, ...volatile.response].join(", ")}`] : []),
    ];
    // TCP stubs listen on ports of their own; nftables sends what nginx sends to an upstream's
    // address to its stub, so a stub never takes an address or port nginx itself listens on.
    const tcpStubs = targets.filter((t) => !t.socket).map((t, i) => ({ target: t, port: STUB_PORTS + i }));
    if (tcpStubs.length && spawnSync("nft", ["--version"]).status !== 0) throw new CongruentError("E_MIGRATE_VERIFY", "migrate verify needs nft(8) to route upstream addresses to its stubs: install Debian's nftables");
    const nat = natRules(tcpStubs);
    const setupFor = (view: View) => [
      ...addresses.map((a) => `ip addr add ${sh(a.includes(":") ? `${a}/128` : `${a}/32`)} dev lo`),
      ...[...up.names].map(([name, ip]) => inside(view.root, `echo ${sh(`${ip} ${name}`)} >> /etc/hosts`)),
      ...nat,
    ];
    const stubsIn = () => [
      ...targets.filter((t) => t.socket).map((t) => ({ kind: t.kind, socket: t.socket! })),
      ...tcpStubs.map((s) => ({ kind: s.target.kind, host: "::", port: s.port })),
    ];

    // The new host: this one with the plan's carry-over, the plan switched into a state directory.
    const newWork = path.join(work, "congruent");
    const state = path.resolve(opts.state ?? path.join(newWork, "state"));
    const local = path.join(newWork, "local");
    mkdirSync(state, { recursive: true });
    chmodSync(state, 0o755);
    cpSync(path.join(planDir, "local"), local, { recursive: true, filter: (src) => path.basename(src) !== "README.txt" });
    const cli = selfModule("cli/main");
    const nview = newHostView(newWork, opts.root, { copy: [...plan.data, ...plan.deployments].map((d) => d.path), create: plan.directories.map((d) => d.path) }, [state, work, planDir, cli.at(-1)!]);
    const inNew = (args: string[]) => ["chroot", nview.root, ...cli, ...args];
    const newSettings: SettingsProbe = {};
    if (pg) newSettings.postgresql = { host: path.join(state, "run", "postgresql"), port: pgPort };
    if (redis) newSettings.redis = { socket: path.join(state, "run", "redis", "redis.sock"), password: `@${path.join(state, "secrets", "redis.password")}` };
    if (memcached) newSettings.memcached = memcachedAt(planDir);
    const newJob: RunnerJob = {
      root: nview.root,
      shared: [state],
      volatile: volatile.upstream,
      stubs: stubsIn(),
      services: [],
      before: [{ name: "congruent switch", argv: inNew(["switch", "--host", path.join(planDir, "host.json"), "--local", local, "--state", state, "--json"]) }],
      // A kept state directory is left stopped cleanly; a throwaway one ends with its namespace.
      after: opts.state ? [{ name: "congruent down", argv: inNew(["down", "--state", state]) }] : [],
      probes,
      settings: newSettings,
    };

    progress("verify", `${probes.length} requests to each host`);
    const timeout = opts.timeoutMs ?? 300_000;
    // The new host takes longest (a build, a switch): it starts first, the legacy one is prepared meanwhile.
    const newRun = inSandbox("congruent", nview, setupFor(nview), newJob, timeout, progress, mine);
    newRun.catch(() => {}); // awaited below; an early failure must not be unhandled meanwhile
    // The legacy host.
    const lview = legacyView(path.join(work, "legacy"), opts.root);
    const legacyStarts: LegacyStart[] = [];
    const legacySettings: SettingsProbe = {};
    if (nginx) legacyStarts.push(legacyNginx(lview.root, nginx, { tcp: listens.filter((l) => !l.socket).map((l) => [l.host, l.port]), sockets: listens.flatMap((l) => (l.socket ? [l.socket] : [])) }));
    if (pg?.configFile) {
      progress("verify", "initdb of a fresh cluster for the legacy PostgreSQL");
      legacyStarts.push(legacyPostgres(lview.root, pg, templateCluster(templateDir(pg.major, opts.state), pg.major), pgPort, path.join(work, "legacy")));
      legacySettings.postgresql = { host: `${SCRATCH}/pgsock`, port: pgPort };
    }
    if (redis?.configFile) {
      legacyStarts.push(legacyRedis(lview.root, redis, redisPassword));
      legacySettings.redis = { socket: `${SCRATCH}/redis.sock`, password: redisPassword };
    }
    if (memcached) {
      const m = legacyMemcached(lview.root, memcached);
      legacyStarts.push(m);
      legacySettings.memcached = m.at;
    }
    const legacyJob: RunnerJob = { root: lview.root, shared: [], volatile: volatile.upstream, stubs: stubsIn(), services: legacyStarts.flatMap((s) => s.services), before: [], after: [], probes, settings: legacySettings };

    const [legacyRun, congruentRun] = await Promise.all([inSandbox("legacy", lview, [...setupFor(lview), ...legacyStarts.flatMap((s) => s.setup)], legacyJob, timeout, progress, mine), newRun]);

    const differences: BehaviourDifference[] = [];
    for (const [side, r] of [["legacy", legacyRun.result], ["congruent", congruentRun.result]] as const) {
      for (const s of r.startup.filter((x) => !x.ok)) differences.push({ component: s.name.replace(/^(legacy|congruent) /, ""), subject: s.name, field: "start", legacy: side === "legacy" ? s.error! : null, congruent: side === "congruent" ? s.error! : null });
    }
    const components: VerifyReport["components"] = [];
    if (nginx) {
      const d = compareAnswers(probes, legacyRun.result.answers, congruentRun.result.answers, new Set(volatile.response));
      differences.push(...d);
      components.push({ component: "nginx", compared: probes.length, differ: new Set(d.map((x) => x.subject)).size });
    }
    const settingsOf = (component: "postgresql" | "redis" | "memcached", skip: ReadonlySet<string>) => {
      const c = compareSettings(component, legacyRun.result.settings[component], congruentRun.result.settings[component], skip);
      differences.push(...c.differences);
      components.push({ component, compared: c.compared, differ: c.differences.length });
    };
    if (pg) settingsOf("postgresql", new Set(Object.keys(PG_OWNED)));
    if (redis) settingsOf("redis", new Set(Object.keys(REDIS_OWNED)));
    if (memcached) settingsOf("memcached", new Set());
    for (const e of [...legacyRun.result.errors.map((x) => `legacy: ${x}`), ...congruentRun.result.errors.map((x) => `congruent: ${x}`)]) assumptions.push(`not compared: ${e}`);
    return {
      root: root.dir,
      plan: planDir,
      requests: probes.length,
      components,
      differences,
      assumptions,
      blockers: plan.blockers,
      timings: { legacy: legacyRun.ms, congruent: congruentRun.ms },
      identical: differences.length === 0,
    };
  } finally {
    for (const pid of mine) kill(pid);
    removeScratch(work);
    scratch.delete(work);
  }
}

/** Where the stubs listen: high ports no configuration of the sandbox uses. */
const STUB_PORTS = 40000;

/** nftables rules (in the sandbox's own network namespace) that send an upstream's address and port to its stub. */
function natRules(stubs: { target: { host?: string; port?: number }; port: number }[]): string[] {
  if (stubs.length === 0) return [];
  const lines = [
    "nft add table ip congruent-verify",
    `nft add chain ip congruent-verify out ${sh("{ type nat hook output priority -100; }")}`,
    "nft add table ip6 congruent-verify",
    `nft add chain ip6 congruent-verify out ${sh("{ type nat hook output priority -100; }")}`,
  ];
  for (const { target, port } of stubs) {
    const v6 = target.host!.includes(":");
    lines.push(`nft add rule ${v6 ? "ip6" : "ip"} congruent-verify out ${v6 ? "ip6" : "ip"} daddr ${target.host} tcp dport ${target.port} dnat to ${v6 ? `[::1]:${port}` : `127.0.0.1:${port}`}`);
    // A name that resolves to both families (localhost) reaches the stub either way.
    if (target.host === "127.0.0.1") lines.push(`nft add rule ip6 congruent-verify out ip6 daddr ::1 tcp dport ${target.port} dnat to [::1]:${port}`);
  }
  return lines;
}

/** plan.json of a plan directory (written by `migrate plan`), with the parts verify needs. */
function readPlan(dir: string): Pick<Plan, "blockers"> & Pick<CarryOver, "data" | "directories" | "deployments"> {
  for (const f of ["host.json", "plan.json"]) {
    if (!existsSync(path.join(dir, f))) throw new CongruentError("E_MIGRATE_PLAN", `${path.join(dir, f)}: cannot read the plan: ENOENT (a directory written by 'migrate plan')`);
  }
  try {
    const p = JSON.parse(readFileSync(path.join(dir, "plan.json"), "utf8")) as Partial<Plan>;
    return { blockers: p.blockers ?? [], data: p.data ?? [], directories: p.directories ?? [], deployments: p.deployments ?? [] };
  } catch (error) {
    throw new CongruentError("E_MIGRATE_PLAN", `${path.join(dir, "plan.json")}: not a plan: ${(error as Error).message}`);
  }
}

/** Where the plan's memcached listens (memcached.json over the component's defaults). */
function memcachedAt(planDir: string): { host: string; port: number } {
  let json: { listen?: string; port?: number } = {};
  try {
    json = JSON.parse(readFileSync(path.join(planDir, "local", "memcached", "memcached.json"), "utf8"));
  } catch {
    // the component's defaults
  }
  const listen = json.listen ?? "127.0.0.1";
  return { host: listen === "0.0.0.0" ? "127.0.0.1" : listen === "::" ? "::1" : listen, port: json.port ?? 11211 };
}

/**
 * Where the scratch cluster's template is kept: in --state's cache, else in a cache of this
 * host's temp directory, by the server binary's identity. Only ever a read-only layer.
 */
function templateDir(major: string, state: string | undefined): string {
  const binary = findPostgres(major);
  const st = statSync(binary);
  const id = `pg-${major}-${st.ino}-${st.size}-${Math.floor(st.mtimeMs)}`;
  return state ? path.join(path.resolve(state), "cache", `verify-${id}`) : path.join(os.tmpdir(), "congruent-verify-cache", id);
}

/** A fresh cluster as the platform makes one (initdb, C.UTF-8), owned by postgres, to copy for the legacy server. */
function templateCluster(dir: string, major: string): string {
  if (existsSync(dir)) return dir;
  // initdb runs as postgres, which may not pass through TMPDIR or --state (mkdtemp's 0700): it
  // writes below /var/tmp (world-traversable), then the cluster moves into the cache complete,
  // so an interrupted run leaves no half cluster there.
  const scratch = mkdtempSync(path.join(existsSync("/var/tmp") ? "/var/tmp" : "/tmp", "congruent-initdb-"));
  try {
    chmodSync(scratch, 0o755);
    const temp = path.join(scratch, "data");
    const { uid, gid } = userIds("postgres");
    mkdirSync(temp, { mode: 0o700 });
    spawnSync("chown", [`${uid}:${gid}`, temp]);
    const argv = asUser("postgres", [path.join(path.dirname(findPostgres(major)), "initdb"), "-D", temp, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8", "-U", "postgres", "--no-instructions"]);
    const run = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
    if (run.status !== 0) throw new CongruentError("E_MIGRATE_VERIFY", `initdb of a scratch cluster failed: ${(run.stderr || String(run.error)).trim().split("\n").at(-1)}`);
    mkdirSync(path.dirname(dir), { recursive: true });
    const staged = `${dir}.${process.pid}.tmp`;
    cpSync(temp, staged, { recursive: true, preserveTimestamps: true });
    spawnSync("chown", ["-R", `${uid}:${gid}`, staged]);
    try {
      renameSync(staged, dir);
    } catch {
      rmSync(staged, { recursive: true, force: true }); // another run made it meanwhile
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}

/** Run the runner in a sandbox (its own network, mount and PID namespaces); stopped by PID on timeout. */
function inSandbox(side: "legacy" | "congruent", view: View, setup: string[], job: RunnerJob, timeoutMs: number, progress: NonNullable<VerifyOptions["onProgress"]>, mine: Set<number>): Promise<{ result: RunnerResult; ms: number }> {
  const argv = sandboxArgv(view, selfModule("migrate/verify/runner"), { net: true, pid: true, setup });
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    if (child.pid) {
      running.add(child.pid);
      mine.add(child.pid);
    }
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d: Buffer) => {
      err += d;
      for (const line of d.toString().split("\n")) if (line.startsWith("progress: ")) progress(side, line.slice(10));
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (child.pid) {
        running.delete(child.pid);
        mine.delete(child.pid);
      }
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve({ result: JSON.parse(line) as RunnerResult, ms: Date.now() - t0 });
      else {
        const said = err.split("\n").filter((l) => l && !l.startsWith("progress: "));
        // The error itself, not the stack under it.
        const what = said.find((l) => /^(runner: |\w*Error\b|\S+: line \d+|mount: |nft: |ip: |cp: |chroot: )/.test(l)) ?? said.at(-1) ?? "";
        reject(new CongruentError("E_MIGRATE_VERIFY", `the ${side} host's sandbox ended (${code ?? "killed"}) without an answer: ${what.replace(/^runner: /, "")}`));
      }
    });
    child.stdin.write(`${JSON.stringify(job)}\n`);
  });
}
