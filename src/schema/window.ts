import type { Issue } from "./issue.js";
import { isObject } from "./issue.js";

const DAY = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
/** `Sun 02:00-04:00`, `Sat,Sun 23:00-01:00` (past midnight), `daily 01:00-02:00`; 24:00 ends a day. */
export const SCHEDULE_PATTERN = new RegExp(`^(daily|${DAY}(,${DAY})*) ([01]\\d|2[0-3]):[0-5]\\d-(([01]\\d|2[0-3]):[0-5]\\d|24:00)$`);
export const SCHEDULE_RULE = "like 'Sun 02:00-04:00', 'Sat,Sun 23:00-01:00' or 'daily 01:00-02:00' (days Mon..Sun, 24-hour times)";

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/**
 * An IANA time zone this Node.js knows (its ICU data): `Europe/Berlin`, `UTC`, `America/New_York`.
 * Offsets (`+01:00`) and invented names (`Mars/Olympus`) are refused here, so that no agent ever
 * meets one (Intl would throw an uncoded RangeError at the first restart it plans).
 *
 * @example checkTimeZone("Mars/Olympus") // 'unknown time zone "Mars/Olympus" …'
 */
export function checkTimeZone(value: unknown): string | undefined {
  const refused = `unknown time zone ${JSON.stringify(value)}: expected an IANA name such as Europe/Berlin, America/New_York or UTC`;
  if (typeof value !== "string" || !ZONE_NAME.test(value)) return refused;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return undefined;
  } catch {
    return refused;
  }
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** `{schedule, timezone}`: a weekly maintenance window in the host's time zone. */
export function checkWindow(value: unknown): Issue[] {
  if (!isObject(value)) return [{ path: [], message: `expected {"schedule": "Sun 02:00-04:00", "timezone": "Europe/Berlin"}` }];
  const issues: Issue[] = [];
  const { schedule, timezone } = value;
  if (typeof schedule !== "string" || !SCHEDULE_PATTERN.test(schedule)) issues.push({ path: ["schedule"], message: `${SCHEDULE_RULE}, got ${JSON.stringify(schedule)}` });
  else {
    const [start, end] = schedule.split(" ")[1]!.split("-") as [string, string];
    if (minutes(start) === minutes(end)) issues.push({ path: ["schedule"], message: `${JSON.stringify(schedule)} is an empty window (it starts when it ends)` });
  }
  if (timezone !== undefined) {
    const problem = checkTimeZone(timezone);
    if (problem) issues.push({ path: ["timezone"], message: problem });
  }
  return issues;
}
