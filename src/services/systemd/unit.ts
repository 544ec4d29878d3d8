import { CongruentError } from "../../errors.js";
import type { ServiceDefinition } from "../manager.js";

/** `congruent-<name>.service`: a prefix keeps our units apart from the distribution's. */
export function unitName(name: string): string {
  return `congruent-${name}.service`;
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

/**
 * The unit file for a definition. Pure: the same definition gives the same bytes, so
 * install() can compare and skip `daemon-reload` when nothing changed.
 *
 * @example renderUnit({ name: "web", command: ["/usr/sbin/nginx", "-c", "/etc/nginx.conf"], reloadSignal: "HUP" })
 */
export function renderUnit(def: ServiceDefinition): string {
  if (!/^[a-z0-9-]+$/.test(def.name)) throw new CongruentError("E_SERVICE", `service "${def.name}": name must match [a-z0-9-]+`);
  if (def.command.length === 0) throw new CongruentError("E_SERVICE", `service "${def.name}": command is empty`);
  const service = ["Type=simple", `ExecStart=${def.command.map(execWord).join(" ")}`];
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
  return [
    "# Written by congruent; rewritten on every install.",
    "[Unit]",
    `Description=Congruent service ${def.name}`,
    "",
    "[Service]",
    ...service,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
