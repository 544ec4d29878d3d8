import type { Command } from "commander";
import { hostname } from "node:os";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { engineName, HEALTH_HELP, healthTimeoutMs, localDir, openStateStore, report, stateDir, STORE_HELP } from "./common.js";
import { CA_HELP, DIRECTORY_HELP, directoryUrl, readCa, readToken } from "./directory-client.js";
import { HOST_TOKEN_PREFIX, isHostToken } from "../directory/tokens.js";

interface ManageCliOptions {
  directory?: string;
  tokenFile?: string;
  ca?: string;
  name?: string;
  state?: string;
  store?: string;
  local?: string;
  once?: boolean;
  force?: boolean;
  healthTimeout?: string;
  json?: boolean;
  splay: string;
  watchdog: string;
  interval: string;
}

const seconds = (value: string, flag: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new CongruentError("E_USAGE", `${flag} takes a number of seconds, got "${value}"`);
  return n;
};

/**
 * The host's token. Any other token (the admin token, which the README's admin examples put in
 * $CONGRUENT_TOKEN) is refused before a request is made: an agent never runs with admin rights.
 */
function hostToken(opts: ManageCliOptions): string {
  const token = readToken(opts);
  if (!isHostToken(token)) {
    const from = opts.tokenFile ?? "$CONGRUENT_TOKEN";
    throw new CongruentError("E_DIRECTORY_TOKEN", `${from}: not a host token (host tokens start with "${HOST_TOKEN_PREFIX}"; is it the admin token?); give the agent its host's token: congruent host token NAME --token-out FILE`);
  }
  return token;
}

/** One run under a watchdog that ends it when no step makes progress for `watchdogS`. */
async function runOnce(opts: ManageCliOptions): Promise<number> {
  const state = stateDir(opts);
  const name = opts.name ?? hostname().split(".")[0]!;
  const { DirectoryClient } = await import("../directory/client.js");
  const { openServiceManager } = await import("../services/index.js");
  const { manageOnce } = await import("../agent/manage.js");
  const { outbox } = await import("../agent/saved.js");
  const log = opts.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const directory = new DirectoryClient({ url: directoryUrl(opts), token: hostToken(opts), ca: readCa(opts) });

  const watchdogMs = seconds(opts.watchdog, "--watchdog") * 1000;
  let step = "start";
  let timer: NodeJS.Timeout | undefined;
  const startedAt = new Date().toISOString();
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      // A hung step (a service that never answers, a stuck disk): report and end. The
      // activation journal lets the next run finish what this one started.
      const error = `watchdog: no progress for ${opts.watchdog} s during "${step}"`;
      process.stderr.write(`congruent: ${error}\n`);
      outbox.put(state, { generation: null, release: null, result: "timeout", error, plan: [], deferred: [], durations: {}, services: [], warnings: [], startedAt, finishedAt: new Date().toISOString() });
      process.exit(3);
    }, watchdogMs);
    timer.unref();
  };
  arm();
  try {
    const result = await manageOnce({
      hostName: name,
      stateDir: state,
      localDir: localDir(opts),
      directory,
      store: await openStateStore(opts),
      manager: await openServiceManager({ stateDir: state }),
      force: opts.force,
      healthTimeoutMs: healthTimeoutMs(opts),
      log,
      progress: (s) => {
        step = s;
        arm();
      },
    });
    const r = result.report;
    report(opts.json, result, () =>
      [`${r.result}: ${r.generation ?? "(no generation)"}${r.release ? ` (release ${r.release.channel}#${r.release.number})` : ""}`, ...r.deferred.map((d) => `  deferred ${d.action} ${d.service}: ${d.why.join("; ")}`), result.delivered ? "" : "report kept in the outbox"].filter(Boolean).join("\n"),
    );
    return r.result === "failed" || r.result === "stale" ? 1 : 0;
  } finally {
    clearTimeout(timer);
  }
}

/** `manage` (the agent) and `agent install` (its systemd timer). */
export function registerAgent(program: Command): void {
  program
    .command("manage")
    .description("the agent: fetch this host's description from the directory, build, switch, report")
    .option("--directory <url>", DIRECTORY_HELP)
    .option("--token-file <file>", "this host's token (default $CONGRUENT_TOKEN); the admin token is refused")
    .option("--ca <file>", CA_HELP)
    .option("--name <host>", "this host's name in the directory (default the short host name)")
    .option("--state <dir>", "state directory (default $CONGRUENT_STATE or /var/lib/congruent)")
    .option("--store <engine>", STORE_HELP)
    .option("--local <dir>", "root of the integration points (default $CONGRUENT_LOCAL or /etc/local)")
    .option("--once", "one run, then exit (what the systemd timer does)")
    .option("--force", "apply restarts now, even outside the maintenance window, and try again a generation whose activation failed")
    .option("--health-timeout <seconds>", HEALTH_HELP)
    .option("--splay <seconds>", "wait a random time up to this long first, so a fleet does not poll in lockstep", "0")
    .option("--watchdog <seconds>", "end a run that makes no progress for this long (exit 3)", "600")
    .option("--interval <seconds>", "without --once: seconds between runs", "600")
    .option("--json", "print {report, delivered} as JSON")
    .addHelpText(
      "after",
      `
One run: a conditional GET of the host's description (an unchanged one costs a 304 and no
build, unless an integration-point file or a program changed); build; switch, where a
restart outside the host's maintenance window is deferred (reported, shown as pending by
'congruent host show') and reload/runtime/none apply at once; report to the directory.
If the directory is unreachable, the last saved description is used and the report waits
in <state>/agent/outbox/ (so does a report the directory refuses for now: HTTP 429). On the
first run there is no saved description: the run changes nothing and exits 1
(E_DIRECTORY_UNREACHABLE); the timer's next run tries again. A host without a maintenance
window defers every restart until a run with --force. A release older than the one the host runs is refused unless an
admin rolled the channel back. Runs never overlap (the state lock; a killed run's lock is
taken over). Agents only pull: no inbound access to the host is needed.

Exit status: 0 switched, unchanged or deferred; 1 failed or stale input; 3 watchdog.

The token must be the host's own (congruent host add/token); the admin token is refused.
Over https, the directory's certificate must be trusted: by the system's CAs, or by --ca.

Example:
  congruent manage --once --directory https://directory.example:8470 --token-file /etc/congruent/token --ca /etc/congruent/ca.pem`,
    )
    .action(async (opts: ManageCliOptions) => {
      const splay = seconds(opts.splay, "--splay");
      if (splay > 0) await new Promise((r) => setTimeout(r, Math.random() * splay * 1000));
      if (opts.once) {
        process.exitCode = await runOnce(opts);
        return;
      }
      const interval = seconds(opts.interval, "--interval") * 1000;
      for (;;) {
        process.exitCode = await runOnce(opts).catch((error: Error) => (process.stderr.write(`congruent: ${error.message}\n`), 1));
        await new Promise((r) => setTimeout(r, interval + Math.random() * splay * 1000));
      }
    });

  const agent = program.command("agent").description("install the agent's systemd timer");
  agent
    .command("install")
    .description("write congruent-manage.service and .timer (oneshot, low priority, every 10 minutes with a random delay) and enable the timer")
    .option("--unit-dir <dir>", "where to write the units", "/etc/systemd/system")
    .option("--directory <url>", DIRECTORY_HELP)
    .option("--token-file <file>", "this host's token file", "/etc/congruent/token")
    .option("--ca <file>", "the CA file the agent trusts the directory's certificate by (written into the unit as $CONGRUENT_CA)")
    .option("--name <host>", "this host's name in the directory (default the short host name)")
    .option("--state <dir>", "state directory (default $CONGRUENT_STATE or /var/lib/congruent)")
    .option("--store <engine>", STORE_HELP)
    .option("--local <dir>", "root of the integration points (default $CONGRUENT_LOCAL or /etc/local)")
    .option("--no-enable", "write the units only; do not run systemctl")
    .option("--json", "print {written: [...], enabled} as JSON")
    .action(async (opts: { unitDir: string; directory?: string; tokenFile: string; ca?: string; name?: string; state?: string; store?: string; local?: string; enable: boolean; json?: boolean }) => {
      const { installUnits } = await import("../agent/install.js");
      const out = await installUnits({
        unitDir: opts.unitDir,
        enable: opts.enable,
        values: { node: process.execPath, cli: path.resolve(process.argv[1]!), state: stateDir(opts), store: await engineName(opts), local: localDir(opts), directory: directoryUrl(opts), tokenFile: path.resolve(opts.tokenFile), ca: opts.ca ? path.resolve(opts.ca) : "", name: opts.name ?? hostname().split(".")[0]! },
      });
      report(opts.json, out, () => [`wrote ${out.written.join(", ")}`, out.enabled ? "enabled congruent-manage.timer" : `timer not enabled: ${out.why}`].join("\n"));
    });
}
