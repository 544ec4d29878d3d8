import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { convertPostgresql } from "./convert-postgresql.js";

const fact = (major: string) => ({
  major,
  configFile: `/etc/postgresql-${major}/postgresql.conf`,
  dataDir: `/var/lib/postgresql/${major}/data`,
  settings: [{ name: "work_mem", value: "16MB", path: `/etc/postgresql-${major}/postgresql.conf`, line: 3 }],
});

// The installed server's major (Debian's postgresql package on this machine): 15.
const installed = "15";

const here = existsSync(`/usr/lib/postgresql/${installed}/bin/postgres`);

describe.skipIf(!here)(`a legacy PostgreSQL of another major than the platform's (${installed} installed here)${here ? "" : ` (skipped: no PostgreSQL ${installed} server under /usr/lib/postgresql)`}`, () => {
  it("is a named blocker: its cluster opens only under its own major, so the data needs an upgrade", () => {
    const c = convertPostgresql(fact("13"));
    expect(c.role).toBe("postgresql13");
    expect(c.blockers).toEqual([
      {
        kind: "platform-lacks",
        subject: "PostgreSQL 13",
        detail: expect.stringMatching(/^the legacy server is PostgreSQL 13; the platform runs PostgreSQL 15, and a cluster opens only under its own major: upgrade the data as part of the move \(pg_upgrade, or pg_dump and restore\)/),
        path: "/etc/postgresql-13/postgresql.conf",
      },
    ]);
  });

  it("the installed major is not one", () => {
    expect(convertPostgresql(fact(installed)).blockers).toEqual([]);
  });
});
