import { CongruentError } from "../../errors.js";
import type { ServiceStatus } from "../manager.js";

/** The fields `parseSvstat` reads, in this order: pass them to `s6-svstat -o`. */
export const SVSTAT_FIELDS = "up,wantedup,pid,exitcode,signal,updownfor";

/**
 * Turn one line of `s6-svstat -o up,wantedup,pid,exitcode,signal,updownfor` into a status.
 * Down while s6 still wants it up means it died and s6-supervise is retrying: "failed".
 *
 * @example parseSvstat("web", "true true 4054 -1 NA 12\n") // => running, pid 4054, uptime 12
 */
export function parseSvstat(name: string, line: string): ServiceStatus {
  const [up, wantedUp, pid, , , upDownFor] = line.trim().split(/\s+/);
  if (up === undefined || wantedUp === undefined || upDownFor === undefined) {
    throw new CongruentError("E_SERVICE", `service "${name}": unexpected s6-svstat output "${line.trim()}"`);
  }
  const uptime = Number(upDownFor);
  if (up === "true") return { name, state: "running", pid: Number(pid), uptime };
  return { name, state: wantedUp === "true" ? "failed" : "stopped", pid: null, uptime };
}
