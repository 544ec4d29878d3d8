import type { MaintenanceWindow } from "../directory/api.js";
import { CongruentError } from "../errors.js";
import { checkTimeZone } from "../schema/window.js";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

interface LocalTime {
  day: number; // 0 = Sunday
  minutes: number; // since local midnight
}

/** Weekday and minute of the day of `when` in `timezone` (IANA name, e.g. Europe/Berlin). */
function localTime(when: Date, timezone: string): LocalTime {
  const problem = checkTimeZone(timezone);
  // The directory refuses such a zone; one stored before it did must still fail with a code.
  if (problem) throw new CongruentError("E_HOST_INVALID", `maintenance window: ${problem}`);
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: timezone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(when);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return { day: DAYS.indexOf(get("weekday") as (typeof DAYS)[number]), minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

/**
 * Is `when` inside the weekly window? `Sun 02:00-04:00` is Sunday 02:00 up to 04:00 in the
 * host's time zone; `Sat 23:00-01:00` runs past midnight into Sunday; `daily 01:00-02:00`
 * is every day. Throws on a schedule it cannot read (the directory validates it first).
 *
 * @example inWindow(new Date("2026-11-29T02:30:00Z"), { schedule: "Sun 02:00-04:00", timezone: "UTC" }) // true
 */
export function inWindow(when: Date, window: MaintenanceWindow): boolean {
  const m = window.schedule.match(/^(\S+) (\d\d):(\d\d)-(\d\d):(\d\d)$/);
  if (!m) throw new Error(`maintenance window "${window.schedule}": expected e.g. "Sun 02:00-04:00"`);
  const [, daySpec, h1, m1, h2, m2] = m;
  const days = daySpec === "daily" ? [0, 1, 2, 3, 4, 5, 6] : daySpec!.split(",").map((d) => DAYS.indexOf(d as (typeof DAYS)[number]));
  if (days.includes(-1)) throw new Error(`maintenance window "${window.schedule}": unknown day in "${daySpec}"`);
  const start = Number(h1) * 60 + Number(m1);
  const end = Number(h2) * 60 + Number(m2);
  const now = localTime(when, window.timezone || "UTC");
  if (start < end) return days.includes(now.day) && now.minutes >= start && now.minutes < end;
  // Past midnight: the evening part on the named day, the morning part on the day after.
  return (days.includes(now.day) && now.minutes >= start) || (days.includes((now.day + 6) % 7) && now.minutes < end);
}

/** What the wall clock in `timezone` shows at `t`, read as if it were UTC (ms). */
function wallClock(t: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(t);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
}

/** The instant the wall clock in `timezone` shows `wall` (read as UTC ms); in a DST gap, the instant just after. */
function fromWallClock(wall: number, timezone: string): number {
  let t = wall - (wallClock(wall, timezone) - wall);
  t = wall - (wallClock(t, timezone) - t);
  return t;
}

/**
 * When the window next opens, at or after `when`: `when` itself while it is open. A weekly
 * window opens within 8 days, so that is as far as it looks.
 *
 * @example nextWindow(new Date("2026-11-27T12:00:00Z"), { schedule: "Sun 02:00-04:00", timezone: "UTC" }) // 2026-11-29T02:00:00Z
 */
export function nextWindow(when: Date, window: MaintenanceWindow): Date {
  if (inWindow(when, window)) return when;
  const [daySpec = "", time = ""] = window.schedule.split(" ");
  const days = daySpec === "daily" ? [0, 1, 2, 3, 4, 5, 6] : daySpec.split(",").map((d) => DAYS.indexOf(d as (typeof DAYS)[number]));
  const start = Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
  const zone = window.timezone || "UTC";
  const today = wallClock(when.getTime(), zone);
  const midnight = today - (today % 86_400_000);
  for (let d = 0; d <= 8; d++) {
    const opening = midnight + d * 86_400_000 + start * 60_000;
    if (!days.includes(new Date(opening).getUTCDay())) continue;
    const at = fromWallClock(opening, zone);
    if (at >= when.getTime()) return new Date(at);
  }
  throw new CongruentError("E_HOST_INVALID", `maintenance window "${window.schedule}": never opens`);
}
