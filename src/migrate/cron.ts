import type { LegacyRoot } from "./legacy-root.js";
import type { OwnedFile } from "./vdb.js";
import type { CronJobFact, Problem } from "./types.js";

// cronie and vixie-cron on Gentoo keep per-user crontabs here; fcron elsewhere (not read).
const USER_SPOOLS = ["/var/spool/cron/crontabs", "/var/spool/cron"];
const SCHEDULE_FIELD = /^[\d*,/\-A-Za-z]+$/;
const SPECIAL = /^@(reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)$/;

/**
 * Cron jobs: per-user crontabs (five time fields, command), the system crontab and
 * /etc/cron.d/* (five fields, user, command). Environment lines (`MAILTO=…`) are skipped; a
 * line that is neither is reported with file and line.
 */
export function readCron(root: LegacyRoot, owned: Map<string, OwnedFile>): { jobs: CronJobFact[]; problems: Problem[] } {
  const jobs: CronJobFact[] = [];
  const problems: Problem[] = [];
  for (const spool of USER_SPOOLS) {
    for (const e of root.list(spool)) {
      if (!e.isFile()) continue;
      parse(`${spool}/${e.name}`, e.name);
    }
  }
  parse("/etc/crontab");
  for (const e of root.list("/etc/cron.d")) if (e.isFile() && !e.name.startsWith(".")) parse(`/etc/cron.d/${e.name}`);
  return { jobs, problems };

  function parse(file: string, user?: string) {
    const text = root.read(file);
    if (text === undefined) return;
    const owner = owned.get(file)?.atom;
    text.split("\n").forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith("#") || /^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line)) return;
      const fields = line.split(/\s+/);
      const special = SPECIAL.test(fields[0]!);
      const timeFields = special ? 1 : 5;
      const withUser = user === undefined;
      if (fields.length < timeFields + (withUser ? 2 : 1) || !fields.slice(0, timeFields).every((f) => special || SCHEDULE_FIELD.test(f))) {
        problems.push({ path: file, line: i + 1, message: `not a crontab entry: ${JSON.stringify(line)}` });
        return;
      }
      const job: CronJobFact = {
        path: file,
        line: i + 1,
        user: withUser ? fields[timeFields]! : user,
        schedule: fields.slice(0, timeFields).join(" "),
        command: fields.slice(timeFields + (withUser ? 1 : 0)).join(" "),
      };
      if (owner) job.package = owner;
      jobs.push(job);
    });
  }
}
