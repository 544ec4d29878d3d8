import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers.js";
import { readCron } from "./cron.js";
import { LegacyRoot } from "./legacy-root.js";
import { parsePgLine, readPgFile } from "./postgresql-config.js";
import { readPuppet, resourceTitle } from "./puppet.js";

function tree(files: Record<string, string>): LegacyRoot {
  const dir = tempDir("legacy-");
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), text);
  }
  return new LegacyRoot(dir);
}

describe("Puppet state", () => {
  it("reads the older layout: classes.txt beside state/, resources from state.yaml", () => {
    const root = tree({
      "/var/lib/puppet/classes.txt": "settings\nntp\n",
      "/var/lib/puppet/state/state.yaml": '---\n"File[/etc/ntp.conf]":\n  :checked: 2019-01-01 00:00:00 +00:00\nExec[apt-update]:\n  :checked: 2019-01-01 00:00:00 +00:00\n',
    });
    const { puppet, problems } = readPuppet(root);
    expect(puppet).toEqual({ stateDir: "/var/lib/puppet/state", classes: ["ntp", "settings"], resources: ["Exec[apt-update]", "File[/etc/ntp.conf]"] });
    expect(problems).toEqual([]);
  });

  it("normalises resource references and reports lines that are none", () => {
    expect(resourceTitle("file[/etc/ntp.conf]")).toBe("File[/etc/ntp.conf]");
    expect(resourceTitle("apache::vhost[shop]")).toBe("Apache::Vhost[shop]");
    const root = tree({ "/opt/puppetlabs/puppet/cache/state/resources.txt": "file[/etc/motd]\nnot a reference\n" });
    expect(readPuppet(root).problems).toEqual([{ path: "/opt/puppetlabs/puppet/cache/state/resources.txt", line: 2, message: 'not a resource reference: "not a reference"' }]);
  });
});

describe("crontabs", () => {
  it("reads user and system crontabs, skips environment lines, reports malformed ones with file and line", () => {
    const root = tree({
      "/var/spool/cron/crontabs/alice": "MAILTO=alice\n@daily /home/alice/bin/sync\n*/10 * * * *\n",
      "/etc/cron.d/backup": "SHELL=/bin/sh\n0 3 * * * root /usr/local/bin/backup --all\n",
    });
    const { jobs, problems } = readCron(root, new Map());
    expect(jobs).toEqual([
      { path: "/var/spool/cron/crontabs/alice", line: 2, user: "alice", schedule: "@daily", command: "/home/alice/bin/sync" },
      { path: "/etc/cron.d/backup", line: 2, user: "root", schedule: "0 3 * * *", command: "/usr/local/bin/backup --all" },
    ]);
    expect(problems).toEqual([{ path: "/var/spool/cron/crontabs/alice", line: 3, message: 'not a crontab entry: "*/10 * * * *"' }]);
  });
});

describe("postgresql.conf", () => {
  it("parses values as PostgreSQL does: optional =, quotes with '' and \\', trailing comments", () => {
    expect(parsePgLine("shared_buffers = 128MB   # min 128kB")).toEqual({ name: "shared_buffers", value: "128MB" });
    expect(parsePgLine("DateStyle 'iso, mdy'")).toEqual({ name: "datestyle", value: "iso, mdy" });
    expect(parsePgLine("log_line_prefix = 'it''s \\'%m\\' '")).toEqual({ name: "log_line_prefix", value: "it's '%m' " });
    expect(parsePgLine("  # a comment")).toBeUndefined();
    expect(parsePgLine("work_mem = 'unterminated")).toBeInstanceOf(Error);
    expect(parsePgLine("work_mem = 4 MB")).toBeInstanceOf(Error);
  });

  it("follows include, include_if_exists and include_dir, in order, relative to the including file", () => {
    const root = tree({
      "/etc/postgresql-15/postgresql.conf": "work_mem = 4MB\ninclude 'tuning.conf'\ninclude_if_exists 'absent.conf'\ninclude_dir 'conf.d'\nbad line here\n",
      "/etc/postgresql-15/tuning.conf": "work_mem = 8MB\n",
      "/etc/postgresql-15/conf.d/b.conf": "max_connections = 50\n",
      "/etc/postgresql-15/conf.d/a.conf": "max_connections = 40\n",
    });
    const problems: { path: string; line?: number; message: string }[] = [];
    const settings = readPgFile(root, "/etc/postgresql-15/postgresql.conf", problems);
    expect(settings.filter((s) => !s.name.startsWith("include")).map((s) => `${s.name}=${s.value}@${s.path}:${s.line}`)).toEqual([
      "work_mem=4MB@/etc/postgresql-15/postgresql.conf:1",
      "work_mem=8MB@/etc/postgresql-15/tuning.conf:1",
      "max_connections=40@/etc/postgresql-15/conf.d/a.conf:1",
      "max_connections=50@/etc/postgresql-15/conf.d/b.conf:1",
    ]);
    expect(problems).toEqual([{ path: "/etc/postgresql-15/postgresql.conf", line: 5, message: 'bad: unexpected text after the value: "here"' }]);
  });
});
