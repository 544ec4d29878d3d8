import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import type { Fleet } from "../support/fleet.js";
import { SystemdHost } from "../support/host.js";
import type { Row } from "../support/ledger.js";
import { get, pgClient, redisClient } from "../support/probes.js";
import { Scenario, watch } from "../support/scenario.js";

/** Where the agent is killed: each named point of an activation (src/activation/fault-point.ts), and during the build. */
const POINTS = ["after-journal", "after-link", "after-step-1", "after-step-2", "after-step-3", "after-flip", "build"] as const;

/**
 * 5. On the multi-service host under systemd (nginx, PostgreSQL, Redis), an agent run is killed
 * with SIGKILL at each step of an activation that changes all three (a reload, a reload, a
 * runtime change), and during the build; the next timer run must leave the host on one complete
 * generation: the profile, every service's configuration and process, nothing interrupted.
 */
export async function agentKilled(fleet: Fleet, rows: Row[]): Promise<void> {
  const s = new Scenario(fleet, "5. kill -9 of the agent at each step of an activation", rows);
  const host = fleet.hosts.find((h) => h instanceof SystemdHost)!;
  const directory = fleet.directories.find((d) => d.url === host.directoryUrl)!;
  const base = (await directory.admin.getHost(host.name)).host.settings;
  const target = fleet.target(host);
  const killed: number[] = [];
  await fleet.timer(host.name).pause();

  try {
    for (const [i, point] of POINTS.entries()) {
      const n = i + 1;
      host.writeSite(`v5-${n}`);
      await directory.admin.updateHost(host.name, { settings: { ...base, redis: { ...base.redis, maxmemory: `${10 + n}mb` }, postgresql: { work_mem: `${4 + n}MB` } } });
      let run;
      if (point === "build") {
        // Killed while a component's configuration is checked in a scratch directory of its own.
        const scratch = path.join(host.stateDir, "tmp");
        const entries = () => (existsSync(scratch) ? readdirSync(scratch) : []);
        const before = new Set(entries());
        let ended = false;
        const running = host.run().finally(() => (ended = true));
        const caught = await watch(() => entries().some((d) => !before.has(d)), () => ended);
        expect(caught, "the build ran long enough to be killed in it").toBe(true);
        await host.killAgent();
        run = await running;
      } else {
        run = await host.run({ env: { CONGRUENT_FAULT_KILL_AT: point } });
      }
      killed.push(run.began);
      expect(run.exit, `${point}: killed, not finished: ${run.stderr}`).toBeNull();

      // The next timer run.
      const next = await host.run();
      expect(next.out?.report, `${point}: ${next.stderr}`).toMatchObject({ result: "switched" });
      const status = await host.status();
      expect(status.generation, point).toBe(next.out!.report.generation);
      expect(status.interrupted, point).toBeUndefined();
      expect(status.services.map((x) => [x.name, x.state]).sort(), point).toEqual([["nginx", "running"], ["postgresql", "running"], ["redis", "running"]]);
      expect((await get(host.address)).body, point).toBe(`${host.name} v5-${n}\n`);
      const redis = redisClient(target);
      await redis.connect();
      expect(((await redis.call("CONFIG", "GET", "maxmemory")) as string[])[1], point).toBe(String((10 + n) * 1024 * 1024));
      redis.disconnect();
      const pg = pgClient(target);
      await pg.connect();
      expect((await pg.query("SHOW work_mem")).rows[0].work_mem, point).toBe(`${4 + n}MB`);
      await pg.end();
    }
  } finally {
    fleet.timer(host.name).resume();
  }
  await s.end({ faults: `SIGKILL of ${host.name}'s agent at ${POINTS.length} points (${POINTS.join(", ")})`, killedOnPurpose: (h, t) => h === host.name && killed.includes(t) });
}
