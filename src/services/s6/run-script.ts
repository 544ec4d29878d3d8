import { CongruentError } from "../../errors.js";
import type { ServiceDefinition } from "../manager.js";

/**
 * Quote one word for /bin/sh: single quotes keep everything literal ($, spaces, backslashes);
 * an embedded single quote closes, escapes and reopens.
 *
 * @example shellQuote("it's $HOME") // => 'it'\''s $HOME'
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

const SERVICE_NAME = /^[a-z0-9-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const USER_NAME = /^[a-z_][a-z0-9_-]*\$?$/i;

/** Reject what the run script could not express safely, before anything touches the disk. */
export function checkDefinition(def: ServiceDefinition): void {
  const fail = (what: string) => {
    throw new CongruentError("E_SERVICE", `service "${def.name}": ${what}`);
  };
  if (!SERVICE_NAME.test(def.name)) fail("name must match [a-z0-9-]+");
  if (def.command.length === 0) fail("command is empty");
  if (def.user !== undefined && !USER_NAME.test(def.user)) fail(`invalid user name "${def.user}"`);
  for (const key of Object.keys(def.environment ?? {})) {
    if (!ENV_NAME.test(key)) fail(`invalid environment variable name "${key}"`);
  }
  if (def.reloadSignal !== undefined) svcFlagFor(def.reloadSignal, def.name);
  if (def.stopSignal !== undefined) svcFlagFor(def.stopSignal, def.name);
}

/**
 * The service's `run`: stderr joins stdout (both go to s6-log), then the working directory,
 * the environment and the privilege drop, and finally `exec` so the supervised pid is the server.
 *
 * @example renderRunScript({ name: "web", command: ["/usr/sbin/nginx", "-c", "/x/nginx.conf"] })
 */
export function renderRunScript(def: ServiceDefinition): string {
  // s6-supervise makes the run process a session and group leader; its pid names the group
  // that `finish` cleans up after a crash.
  const lines = ["#!/bin/sh", "# Written by congruent; rewritten on every install.", "exec 2>&1", "echo $$ > congruent-pgid"];
  if (def.workingDirectory !== undefined) lines.push(`cd ${shellQuote(def.workingDirectory)} || exit 111`);
  for (const [key, value] of Object.entries(def.environment ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`export ${key}=${shellQuote(value)}`);
  }
  if (def.staleFiles?.length) lines.push(`rm -f -- ${def.staleFiles.map(shellQuote).join(" ")}`);
  const argv = def.user === undefined ? def.command : ["s6-setuidgid", def.user, ...def.command];
  lines.push(`exec ${argv.map(shellQuote).join(" ")}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The service's `finish`, run by s6-supervise whenever the main process has ended: kill what
 * it left behind in its process group (nginx workers orphaned by a killed master would keep the
 * port and serve the old configuration), as systemd's KillMode=control-group does.
 */
export function renderFinishScript(): string {
  return `#!/bin/sh
# Written by congruent; rewritten on every install.
pgid=$(cat congruent-pgid 2>/dev/null) && [ -n "$pgid" ] && kill -s KILL -- "-$pgid" 2>/dev/null
exit 0
`;
}

/** The logger's `run`: s6-log keeps 10 rotated files of at most 1 MB, ISO 8601 timestamps. */
export function renderLogRunScript(logDir: string): string {
  return `#!/bin/sh\nexec s6-log n10 s1000000 T ${shellQuote(logDir)}\n`;
}

// s6-svc has one flag per signal it can send (no generic "-s SIG" in s6 2.11).
const SVC_FLAGS: Record<string, string> = {
  HUP: "-h", USR1: "-1", USR2: "-2", ALRM: "-a", ABRT: "-b", QUIT: "-q",
  INT: "-i", TERM: "-t", KILL: "-k", WINCH: "-y", STOP: "-p", CONT: "-c",
};

/** "HUP", "SIGHUP" or "hup" → "HUP". */
export function signalName(signal: string): string {
  return signal.toUpperCase().replace(/^SIG/, "");
}

/**
 * The s6-svc flag that sends `signal`.
 *
 * @example svcFlagFor("SIGUSR1", "web") // => "-1"
 */
export function svcFlagFor(signal: string, service: string): string {
  const flag = SVC_FLAGS[signalName(signal)];
  if (flag === undefined) {
    throw new CongruentError(
      "E_SERVICE",
      `service "${service}": s6-svc cannot send signal "${signal}" (known: ${Object.keys(SVC_FLAGS).join(", ")})`,
    );
  }
  return flag;
}
