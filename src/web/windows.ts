import type { MaintenanceWindow } from "../directory/api.js";
import { inWindow } from "../agent/window.js";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Milliseconds `timezone` is ahead of UTC at `t`. */
function offsetMs(t: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(new Date(t));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second")) - Math.floor(t / 1000) * 1000;
}

/** The UTC instant of a wall-clock time in `timezone` (the later one across a DST gap). */
function zonedInstant(y: number, m: number, d: number, minutes: number, timezone: string): number {
  const wall = Date.UTC(y, m, d) + minutes * 60_000;
  let t = wall - offsetMs(wall, timezone);
  t = wall - offsetMs(t, timezone);
  return t;
}

/**
 * When a change waiting for the window can happen: `now` when the window is open, else the
 * start of the next one (in the window's time zone), within the coming eight days.
 *
 * @example nextWindow(new Date("2026-12-01T10:00:00Z"), { schedule: "Sun 02:00-04:00", timezone: "UTC" }) // 2026-12-06T02:00:00.000Z
 */
export function nextWindow(now: Date, window: MaintenanceWindow): Date {
  if (inWindow(now, window)) return now;
  const m = /^(\S+) (\d\d):(\d\d)-/.exec(window.schedule);
  if (!m) throw new Error(`maintenance window "${window.schedule}": expected e.g. "Sun 02:00-04:00"`);
  const days = m[1] === "daily" ? DAYS : m[1]!.split(",");
  const start = Number(m[2]) * 60 + Number(m[3]);
  const tz = window.timezone || "UTC";
  const local = new Date(now.getTime() + offsetMs(now.getTime(), tz));
  for (let i = 0; i <= 8; i++) {
    const day = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + i));
    if (!days.includes(DAYS[day.getUTCDay()]!)) continue;
    const t = zonedInstant(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), start, tz);
    if (t > now.getTime()) return new Date(t);
  }
  throw new Error(`maintenance window "${window.schedule}": no start within eight days`);
}
