import { CongruentError } from "../../errors.js";
import type { ServiceDefinition } from "../manager.js";

/**
 * `congruent-<name>@<state>.service`: the prefix keeps our units apart from the distribution's,
 * the instance (the state directory, escaped as `systemd-escape --path` does) keeps the units of
 * two state directories on one machine apart, as Debian's `postgresql@15-main` keeps clusters.
 *
 * @example unitName("nginx", "/var/lib/congruent") // "congruent-nginx@var-lib-congruent.service"
 */
export function unitName(name: string, stateDir: string): string {
  return `congruent-${name}@${escapePath(stateDir)}.service`;
}

/**
 * A path as a unit name's instance, exactly as `systemd-escape --path`: slashes become dashes,
 * bytes other than ASCII letters, digits, `:`, `_` and a non-leading `.` become `\xNN`.
 *
 * @example escapePath("/tmp/congruent-test/state") // "tmp-congruent\\x2dtest-state"
 */
export function escapePath(p: string): string {
  const trimmed = p.split("/").filter(Boolean).join("/");
  if (trimmed === "") return "-";
  let out = "";
  for (const byte of Buffer.from(trimmed, "utf8")) {
    const c = String.fromCharCode(byte);
    if (c === "/") out += "-";
    else if (/[A-Za-z0-9:_]/.test(c) || (c === "." && out !== "")) out += c;
    else out += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/**
 * One word of an Exec line: double-quoted, with C escapes for `\` `"` and newlines, `$$` so
 * systemd does not expand variables and `%%` so it does not expand specifiers.
 *
 * @example execWord('say "hi" $HOME 100%') // => "say \"hi\" $$HOME 100%%"
 */
export function execWord(word: string): string {
  return `"${escapeQuoted(word).replaceAll("$", "$$$$")}"`;
}

function escapeQuoted(text: string): string {
  return text
    .replaceAll("\\", "\\\\")
    .replaceAll('"', '\\"')
    .replaceAll("\n", "\\n")
    .replaceAll("%", "%%");
}

/** "HUP", "SIGHUP", "hup" → "HUP". */
function signalName(signal: string): string {
  const name = signal.toUpperCase().replace(/^SIG/, "");
  if (!/^[A-Z0-9+-]+$/.test(name)) throw new CongruentError("E_SERVICE", `invalid signal "${signal}"`);
  return name;
}

const under = (p: string, dirs: string[]) => dirs.some((d) => p === d || p.startsWith(`${d}/`));

/**
 * The confinement lines for a service that names where it writes: the rest of the system is
 * read-only to it, /tmp is its own and homes are hidden (or read-only, for one that serves
 * files from them). A private /tmp or hidden homes would hide the service's own directories
 * when they lie there (a state directory under /tmp): then that one is left out, and the unit
 * says why.
 */
function confinement(def: ServiceDefinition, stateDir: string): string[] {
  const writable = def.writablePaths!;
  const own = [stateDir, ...writable];
  const lines = ["NoNewPrivileges=yes", "ProtectSystem=strict"];
  // "-": a directory the service's first start creates must not fail the unit's namespace setup.
  for (const p of writable) lines.push(`ReadWritePaths=-${p.replaceAll("%", "%%")}`);
  if (own.some((p) => under(p, ["/tmp", "/var/tmp"]))) lines.push("# PrivateTmp= would hide the state directory, which is under /tmp");
  else lines.push("PrivateTmp=yes");
  if (own.some((p) => under(p, ["/home", "/root", "/run/user"]))) lines.push("# ProtectHome= would hide the state directory, which is in a home");
  else lines.push(`ProtectHome=${def.readsHomes ? "read-only" : "yes"}`);
  return lines;
}

/**
 * The unit file for a definition of the state directory `stateDir`. Pure: the same definition
 * gives the same bytes, so install() can compare and skip `daemon-reload` when nothing changed.
 * A definition with a `daemon` form runs as Type=forking with PIDFile=, so systemd follows a
 * main process that replaces itself (a binary swap); stdout and stderr go to the journal.
 *
 * @example renderUnit({ name: "web", command: ["/usr/sbin/nginx", "-c", "/etc/nginx.conf"], reloadSignal: "HUP" }, "/var/lib/congruent")
 */
export function renderUnit(def: ServiceDefinition, stateDir: string): string {
  if (!/^[a-z0-9-]+$/.test(def.name)) throw new CongruentError("E_SERVICE", `service "${def.name}": name must match [a-z0-9-]+`);
  if (def.command.length === 0) throw new CongruentError("E_SERVICE", `service "${def.name}": command is empty`);
  const service = def.daemon
    ? ["Type=forking", `ExecStart=${def.daemon.command.map(execWord).join(" ")}`, `PIDFile=${def.daemon.pidFile.replaceAll("%", "%%")}`]
    : ["Type=simple", `ExecStart=${def.command.map(execWord).join(" ")}`];
  if (def.user !== undefined) {
    if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(def.user)) throw new CongruentError("E_SERVICE", `service "${def.name}": invalid user name "${def.user}"`);
    service.push(`User=${def.user}`);
  }
  for (const [key, value] of Object.entries(def.environment ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new CongruentError("E_SERVICE", `service "${def.name}": invalid environment variable name "${key}"`);
    // Environment= expands specifiers but not variables: only % needs doubling.
    service.push(`Environment="${escapeQuoted(`${key}=${value}`)}"`);
  }
  if (def.staleFiles?.length) service.push(`ExecStartPre=-/bin/rm -f -- ${def.staleFiles.map(execWord).join(" ")}`);
  // WorkingDirectory= takes the rest of the line verbatim (spaces included), specifiers expanded.
  if (def.workingDirectory !== undefined) service.push(`WorkingDirectory=${def.workingDirectory.replaceAll("%", "%%")}`);
  if (def.reloadSignal !== undefined) service.push(`ExecReload=/bin/kill -${signalName(def.reloadSignal)} $MAINPID`);
  if (def.stopSignal !== undefined) service.push(`KillSignal=SIG${signalName(def.stopSignal)}`);
  service.push("Restart=on-failure", "RestartSec=1");
  if (def.writablePaths) service.push(...confinement(def, stateDir));
  return [
    "# Written by congruent; rewritten on every install.",
    "[Unit]",
    `Description=Congruent service ${def.name} (${stateDir.replaceAll("%", "%%")})`,
    "",
    "[Service]",
    ...service,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
