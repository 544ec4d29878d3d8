import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../store/atomic.js";
import path from "node:path";
import { renderUnits, type UnitValues } from "./units.js";

const systemdRuns = () => existsSync("/run/systemd/system") && readFileSync("/proc/1/comm", "utf8").trim() === "systemd";

/**
 * Write the agent's units (atomically) and, where systemd is PID 1, enable the timer.
 *
 * @example await installUnits({ unitDir: "/etc/systemd/system", enable: true, values })
 */
export async function installUnits(opts: { unitDir: string; enable: boolean; values: UnitValues }): Promise<{ written: string[]; enabled: boolean; why?: string }> {
  mkdirSync(opts.unitDir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of Object.entries(renderUnits(opts.values))) {
    const file = path.join(opts.unitDir, name);
    writeFileAtomic(file, text);
    written.push(file);
  }
  if (!opts.enable) return { written, enabled: false, why: "--no-enable" };
  if (!systemdRuns()) return { written, enabled: false, why: "systemd is not PID 1 on this machine; run the agent from another scheduler (congruent manage without --once loops)" };
  execFileSync("systemctl", ["daemon-reload"]);
  execFileSync("systemctl", ["enable", "--now", "congruent-manage.timer"]);
  return { written, enabled: true };
}
