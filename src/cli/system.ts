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
  swap     a new binary at the same path (a package upgrade) taken over live where the
           software and the service manager allow it (nginx under systemd: USR2 → WINCH → QUIT,
           no connection dropped); elsewhere a restart, and the plan says why
  stop     no longer enabled by the host's roles
A change set that mixes classes costs the strongest one, once. After each step the service must
pass its health check (PostgreSQL SELECT 1, Redis PING, memcached version, nginx HTTP) within
--health-timeout. If a step or a health check fails, the host returns to the previous generation
by itself and the command exits 1 naming the service and the reason. Data directories
(<state>/data/) are never touched by a switch, a rollback or gc.

The plan is written to <state>/activation/pending.json before it runs and each step is crossed
off as it completes. A run killed half-way leaves it there: the next switch (or agent run)
finishes it first (--json: "resumed": {target, steps}, result "switched"); if a step of it
fails, the host returns to the generation active before and the journal is cleared. Runs hold
<state>/lock (a kernel lock on the file: it ends with the process holding it).`,
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
      const resumed = out.resumed ? `finished the interrupted activation of ${out.resumed.target}:\n${planText(out.resumed.steps) || "  (only the profile flip was left)"}\n` : "";
      report(opts.json, out, () => `${resumed}${out.result}: ${out.generation}\n${planText(out.plan)}`);
    });

  program
    .command("rollback")
    .description("activate the previous generation, with the same planning as switch")
    .addHelpText("after", "\nThe previous generation is the newest older one that was active. While an interrupted activation\nis pending (see switch --help), rollback reverts it instead: the host returns to the generation\nthat was active before it began.")
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
    .option("--json", "print {generation, services: [{name, state, pid}], pending, interrupted?} as JSON")
    .addHelpText("after", "\nWhile an activation that was interrupted (a killed run) is pending, \"interrupted\" names its target\nand the services done and left; the next switch, rollback or agent run finishes or reverts it.\n\"pending\" lists what waits for the maintenance window (or a failed start).")
    .action(async (opts: HostOptions) => {
      const state = stateDir(opts);
      const { current } = await import("../store/profiles.js");
      const { readSystem } = await import("../generation/metadata.js");
      const { readJournal } = await import("../activation/journal.js");
      const active = current(state)?.path ?? null;
      const journal = readJournal(state);
      const interrupted = journal
        ? { target: journal.target, done: journal.steps.filter((s) => s.done).map((s) => s.service), left: journal.steps.filter((s) => !s.done).map((s) => s.service) }
        : undefined;
      const services: { name: string; state: string; pid: number | null }[] = [];
      let pending: PlanEntry[] = [];
      // Where the host is going: an interrupted activation's target, else the active generation.
      const goal = journal?.target ?? active;
      if (goal) {
        const m = await manager(state);
        const components = readSystem(goal).components;
        const names = [...new Set([...Object.keys(active ? readSystem(active).components : {}), ...Object.keys(components)])];
        const { serviceStatuses } = await import("../activation/statuses.js");
        const statuses = await serviceStatuses(m, names, true);
        for (const name of names) {
          const s: ServiceStatus = statuses.get(name) ?? { name, state: "stopped", pid: null };
          statuses.set(name, s);
          services.push({ name, state: s.state, pid: s.pid });
        }
        // What the goal asks for and the services do not run yet, apart from the interrupted
        // activation's own steps: restarts deferred to the maintenance window, failed starts.
        const { makePlan } = await import("../activation/plan.js");
        const { runningComponents } = await import("../activation/running.js");
        pending = makePlan(runningComponents(state), components, statuses, m)
          .filter((p) => p.action !== "none" && !interrupted?.left.includes(p.service))
          .map(({ service, action, why }) => ({ service, action, why }));
      }
      report(opts.json, { generation: active, services, pending, ...(interrupted ? { interrupted } : {}) }, () =>
        [
          `generation: ${active ?? "(none)"}`,
          ...(interrupted
            ? [`interrupted activation of ${interrupted.target}: done ${interrupted.done.join(", ") || "(nothing)"}; left ${interrupted.left.join(", ") || "(only the profile flip)"}`, "  (the next switch, rollback or agent run finishes or reverts it)"]
            : []),
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
