import type { Command } from "commander";
import { HEALTH_HELP, healthTimeoutMs, localDir, openStateStore, report, stateDir, STORE_HELP, type StoreOptions } from "./common.js";
import type { PlanEntry } from "../activation/plan.js";
import type { ServiceStatus } from "../services/manager.js";

interface HostOptions extends StoreOptions {
  host: string;
  local?: string;
  json?: boolean;
  dryRun?: boolean;
  healthTimeout?: string;
}


const quiet = (json?: boolean) => (json ? () => {} : (line: string) => process.stderr.write(`${line}\n`));

function planText(plan: PlanEntry[]): string {
  return plan.map((p) => `  ${p.action.padEnd(8)} ${p.service}${p.why.length ? `  (${p.why.join("; ")})` : ""}`).join("\n");
}

async function buildFor(opts: HostOptions) {
  const { buildGeneration } = await import("../generation/build.js");
  const state = stateDir(opts);
  const store = await openStateStore(opts);
  const result = await buildGeneration({ hostFile: opts.host, localDir: localDir(opts), stateDir: state, store });
  for (const file of result.ignored) quiet(opts.json)(`warning: ${file}: not an input of this integration point (ignored)`);
  return { state, result };
}

async function manager(state: string) {
  const { openServiceManager } = await import("../services/index.js");
  return openServiceManager({ stateDir: state });
}

/** build, switch, rollback, generations, status, down: the life of one host's system. */
export function registerSystem(program: Command): void {
  program
    .command("build")
    .description("build the host's generation into the store and print its path; activates nothing")
    .requiredOption("--host <file>", "host description (JSON)")
    .option("--local <dir>", "root of the integration points (default $CONGRUENT_LOCAL or /etc/local)")
    .option("--state <dir>", "state directory (default $CONGRUENT_STATE or /var/lib/congruent)")
    .option("--store <engine>", STORE_HELP)
    .option("--json", "print {generation, hash} as JSON")
    .addHelpText("after", "\nThe same inputs always give the same store path, byte for byte; any change gives another.\nEvery integration-point file is validated by the software itself (e.g. nginx -t) first.")
    .action(async (opts: HostOptions) => {
      const { result } = await buildFor(opts);
      report(opts.json, { generation: result.generation, hash: result.hash }, () => result.generation);
    });

  program
    .command("switch")
    .description("build the host's generation and activate it: plan per service, reload where possible, flip atomically")
    .requiredOption("--host <file>", "host description (JSON)")
    .option("--local <dir>", "root of the integration points (default $CONGRUENT_LOCAL or /etc/local)")
    .option("--state <dir>", "state directory (default $CONGRUENT_STATE or /var/lib/congruent)")
    .option("--store <engine>", STORE_HELP)
    .option("--dry-run", "print the plan and change nothing")
    .option("--health-timeout <seconds>", HEALTH_HELP)
    .option("--json", "print {generation, previous, plan, result} as JSON")
    .addHelpText(
      "after",
      `
Each service gets one action, with the reasons (each changed setting with its class, e.g.
"work_mem: 4MB → 16MB (reload)", or the integration-point files that changed):
  start    newly enabled, or not running
  restart  the software cannot take this change live (a new program, a postmaster setting, memcached)
  reload   the process re-reads its files on a signal (nginx, PostgreSQL SIGHUP); its PID stays
  runtime  applied to the live process through its own protocol (Redis CONFIG SET); its PID stays
  none     nothing the service reads changed
  stop     no longer enabled by the host's roles
A change set that mixes classes costs the strongest one, once. After each step the service must
pass its health check (PostgreSQL SELECT 1, Redis PING, memcached version, nginx HTTP) within
--health-timeout. If a step or a health check fails, the host returns to the previous generation
by itself and the command exits 1 naming the service and the reason. Data directories
(<state>/data/) are never touched by a switch, a rollback or gc.`,
    )
    .action(async (opts: HostOptions) => {
      const { activate } = await import("../activation/switch.js");
      const { withLock } = await import("../store/lock.js");
      const switchIt = async () => {
        const { state, result } = await buildFor(opts);
        return activate({ stateDir: state, manager: await manager(state), target: result.generation, dryRun: opts.dryRun, healthTimeoutMs: healthTimeoutMs(opts), log: quiet(opts.json) });
      };
      // Held from build to profile link, so a concurrent gc cannot take the new generation.
      const out = opts.dryRun ? await switchIt() : await withLock(stateDir(opts), switchIt);
      report(opts.json, out, () => `${out.result}: ${out.generation}\n${planText(out.plan)}`);
    });

  program
    .command("rollback")
    .description("activate the previous generation, with the same planning as switch")
    .option("--state <dir>", "state directory (default $CONGRUENT_STATE or /var/lib/congruent)")
    .option("--store <engine>", STORE_HELP)
    .option("--dry-run", "print the plan and change nothing")
    .option("--health-timeout <seconds>", HEALTH_HELP)
    .option("--json", "print {generation, previous, plan, result} as JSON")
    .action(async (opts: HostOptions) => {
      const state = stateDir(opts);
      await openStateStore(opts);
      const { rollback } = await import("../activation/rollback.js");
      const out = await rollback({ stateDir: state, manager: await manager(state), dryRun: opts.dryRun, healthTimeoutMs: healthTimeoutMs(opts), log: quiet(opts.json) });
      report(opts.json, out, () => `${out.result === "dry-run" ? "dry-run" : "rolled back"}: ${out.generation}\n${planText(out.plan)}`);
    });

  program
    .command("generations")
    .description("list the system profile's generations, the current one marked")
    .option("--state <dir>", "state directory (default $CONGRUENT_STATE or /var/lib/congruent)")
    .option("--store <engine>", STORE_HELP)
    .option("--json", "print [{number, path, createdAt, current}] as JSON")
    .action(async (opts: HostOptions) => {
      const { generations } = await import("../store/profiles.js");
      await openStateStore(opts);
      const list = generations(stateDir(opts));
      report(opts.json, list, () =>
        list.map((g) => `${String(g.number).padStart(4)}  ${new Date(g.createdAt).toISOString()}  ${g.path}${g.current ? "  (current)" : ""}`).join("\n") || "no generations",
      );
    });

  program
    .command("status")
    .description("show the active generation and the state and main PID of each of its services")
    .option("--state <dir>", "state directory (default $CONGRUENT_STATE or /var/lib/congruent)")
    .option("--json", "print {generation, services: [{name, state, pid}]} as JSON")
    .action(async (opts: HostOptions) => {
      const state = stateDir(opts);
      const { current } = await import("../store/profiles.js");
      const { readSystem } = await import("../generation/metadata.js");
      const active = current(state)?.path ?? null;
      const services: { name: string; state: string; pid: number | null }[] = [];
      let pending: PlanEntry[] = [];
      if (active) {
        const m = await manager(state);
        const components = readSystem(active).components;
        const { serviceStatuses } = await import("../activation/statuses.js");
        const statuses = await serviceStatuses(m, Object.keys(components), true);
        for (const name of Object.keys(components)) {
          const s: ServiceStatus = statuses.get(name) ?? { name, state: "stopped", pid: null };
          statuses.set(name, s);
          services.push({ name, state: s.state, pid: s.pid });
        }
        // What the active generation asks for and the services do not run yet (deferred restarts).
        const { makePlan } = await import("../activation/plan.js");
        const { runningComponents } = await import("../activation/running.js");
        pending = makePlan(runningComponents(state), components, statuses)
          .filter((p) => p.action !== "none")
          .map(({ service, action, why }) => ({ service, action, why }));
      }
      report(opts.json, { generation: active, services, pending }, () =>
        [
          `generation: ${active ?? "(none)"}`,
          ...services.map((s) => `  ${s.name.padEnd(12)} ${s.state.padEnd(8)} ${s.pid ?? ""}`),
          ...(pending.length ? ["pending (waiting for the maintenance window or a failed start):", planText(pending)] : []),
        ].join("\n"),
      );
    });

  program
    .command("down")
    .description("stop every service this state directory runs, and its supervisor")
    .option("--state <dir>", "state directory (default $CONGRUENT_STATE or /var/lib/congruent)")
    .option("--json", "print {stopped: [...]} as JSON")
    .action(async (opts: HostOptions) => {
      const m = await manager(stateDir(opts));
      const stopped = await m.list().catch(() => [] as string[]);
      await m.down();
      report(opts.json, { stopped }, () => (stopped.length ? `stopped: ${stopped.join(", ")}` : "nothing was running"));
    });
}
