import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { Redis } from "ioredis";
import pg from "pg";

/** What a host serves, as a customer reaches it. */
export interface ProbeTarget {
  host: string;
  address: string;
  stateDir: string;
  services: ("nginx" | "redis" | "postgresql")[];
}

export interface Failure {
  host: string;
  service: string;
  at: number;
  error: string;
}

/** One scenario's count of answers and of the data written that the services acknowledged. */
export class Tally {
  ok = 0;
  total = 0;
  readonly failures: Failure[] = [];
  /** Redis keys each host acknowledged (SET answered OK). */
  readonly redisKeys = new Map<string, string[]>();
  /** PostgreSQL rows each host acknowledged (INSERT returned them). */
  readonly pgRows = new Map<string, number[]>();

  constructor(readonly scenario: string) {}

  count(target: ProbeTarget, service: string, error: string | undefined): void {
    this.total++;
    if (error === undefined) this.ok++;
    else this.failures.push({ host: target.host, service, at: Date.now(), error });
  }
}

const TIMEOUT_MS = 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET http://address:port/: status and body (rejects when nothing answers within 3 s). */
export function get(address: string, port = 80): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address, port, path: "/", agent: false, timeout: TIMEOUT_MS }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("no answer")));
    req.on("error", reject);
  });
}

/** The customer's server block on the host's address must answer with the host's name. */
async function probeNginx(t: ProbeTarget): Promise<void> {
  const { status, body } = await get(t.address);
  if (status !== 200 || !body.startsWith(`${t.host} `)) throw new Error(`HTTP ${status}: ${body.slice(0, 80)}`);
}

const redisPassword = (t: Pick<ProbeTarget, "stateDir">) => readFileSync(path.join(t.stateDir, "secrets", "redis.password"), "utf8").trim();

export function redisClient(t: Pick<ProbeTarget, "address" | "stateDir">): Redis {
  const client = new Redis({ host: t.address, port: 6379, password: redisPassword(t), lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: TIMEOUT_MS, commandTimeout: TIMEOUT_MS });
  client.on("error", () => {});
  return client;
}

/** The superuser over the host's Unix socket (root is mapped to postgres by the platform's pg_ident). */
export function pgClient(t: Pick<ProbeTarget, "stateDir">): pg.Client {
  const client = new pg.Client({ host: path.join(t.stateDir, "run", "postgresql"), port: 5432, user: "postgres", database: "postgres", connectionTimeoutMillis: TIMEOUT_MS, query_timeout: TIMEOUT_MS });
  client.on("error", () => {});
  return client;
}

/**
 * Probes every service of every host it is told about, all the time (a round every `everyMs`),
 * each answer counted into the current scenario's tally: an HTTP request to nginx over the
 * bridge, a Redis SET of a new key (by its address, with its password), a PostgreSQL INSERT of
 * a new row (over its socket). `verify` then reads back every key and row acknowledged: what is
 * missing is data lost.
 *
 * @example const p = new Prober(500); p.add(target); p.start(); const t = p.begin("converge"); … p.end(); await p.verify(t);
 */
export class Prober {
  private readonly targets = new Map<string, ProbeTarget>();
  private tally: Tally | undefined;
  private seq = 0;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly everyMs: number) {}

  /** Probe this host's services from the next round on (after it first converged). */
  async add(target: ProbeTarget): Promise<void> {
    if (target.services.includes("postgresql")) {
      const c = pgClient(target);
      await c.connect();
      await c.query("CREATE TABLE IF NOT EXISTS infra_probe (scenario text NOT NULL, seq integer NOT NULL, at timestamptz NOT NULL DEFAULT now())").finally(() => c.end());
    }
    this.targets.set(target.host, target);
  }

  start(): void {
    this.running ??= (async () => {
      while (!this.stopped) {
        const round = sleep(this.everyMs);
        if (this.tally) await Promise.all([...this.targets.values()].flatMap((t) => t.services.map((s) => this.probe(this.tally!, t, s))));
        await round;
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Count answers into a new tally from now on. */
  begin(scenario: string): Tally {
    this.tally = new Tally(scenario);
    return this.tally;
  }

  /** Stop counting (the round in flight still lands in the tally it started with). */
  end(): Tally | undefined {
    const t = this.tally;
    this.tally = undefined;
    return t;
  }

  private async probe(tally: Tally, t: ProbeTarget, service: ProbeTarget["services"][number]): Promise<void> {
    const n = ++this.seq;
    try {
      if (service === "nginx") await probeNginx(t);
      if (service === "redis") {
        const key = `infra:${tally.scenario}:${n}`;
        const client = redisClient(t);
        try {
          await client.connect();
          const answer = await client.set(key, String(n));
          if (answer !== "OK") throw new Error(`SET answered ${answer}`);
        } finally {
          client.disconnect();
        }
        push(tally.redisKeys, t.host, key);
      }
      if (service === "postgresql") {
        const client = pgClient(t);
        try {
          await client.connect();
          const r = await client.query<{ seq: number }>("INSERT INTO infra_probe (scenario, seq) VALUES ($1, $2) RETURNING seq", [tally.scenario, n]);
          if (r.rows[0]?.seq !== n) throw new Error("INSERT returned no row");
        } finally {
          await client.end().catch(() => {});
        }
        push(tally.pgRows, t.host, n);
      }
      tally.count(t, service, undefined);
    } catch (error) {
      tally.count(t, service, (error as Error).message || String(error));
    }
  }

  /** Read back everything the tally's services acknowledged; returns what is missing ("host redis key", "host postgresql row N"). */
  async verify(tally: Tally): Promise<string[]> {
    const missing: string[] = [];
    for (const [host, keys] of tally.redisKeys) {
      const client = redisClient(this.targets.get(host)!);
      await client.connect();
      try {
        const values = await client.mget(...keys);
        keys.forEach((k, i) => values[i] === null && missing.push(`${host} redis ${k}`));
      } finally {
        client.disconnect();
      }
    }
    for (const [host, rows] of tally.pgRows) {
      const client = pgClient(this.targets.get(host)!);
      await client.connect();
      try {
        const r = await client.query<{ seq: number }>("SELECT seq FROM infra_probe WHERE scenario = $1", [tally.scenario]);
        const present = new Set(r.rows.map((row) => row.seq));
        for (const n of rows) if (!present.has(n)) missing.push(`${host} postgresql row ${n}`);
      } finally {
        await client.end();
      }
    }
    return missing;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}
