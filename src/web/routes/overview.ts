import type { FastifyInstance } from "fastify";
import { hostStatuses, type HostStatus } from "../../directory/fleet-storage.js";
import type { WebContext } from "../index.js";
import { migrationColour } from "./migration.js";
import { rolloutView } from "./channels.js";
import { sendPage } from "../render.js";

export function overviewPage(web: FastifyInstance, ctx: WebContext): void {
  const { storage } = ctx.dir;
  web.get("/", async (request, reply) => {
    const [facets, channels, inventories, cves, affected] = await Promise.all([
      storage.fleet.hostFacets(ctx.staleBefore()),
      storage.listChannels(),
      storage.listInventories(),
      storage.fleet.listCves(),
      storage.fleet.queryHosts({ where: [{ field: "cve", op: "gt", value: 0 }], sort: "name", desc: false, limit: 0, offset: 0, staleBefore: ctx.staleBefore() }),
    ]);
    const byStatus = new Map<HostStatus, number>();
    const byChannel = new Map<string | null, Map<number | null, { n: number; failed: number }>>();
    for (const f of facets) {
      byStatus.set(f.status, (byStatus.get(f.status) ?? 0) + f.hosts);
      const releases = byChannel.get(f.channel) ?? new Map();
      const r = releases.get(f.release) ?? { n: 0, failed: 0 };
      r.n += f.hosts;
      if (f.status === "failed") r.failed += f.hosts;
      releases.set(f.release, r);
      byChannel.set(f.channel, releases);
    }
    const current = new Map(channels.map((c) => [c.name, c.current]));
    const migration = { total: inventories.length, green: 0, yellow: 0, red: 0 };
    for (const inv of inventories) migration[migrationColour(inv.summary)]++;
    return sendPage(request, reply, "overview", {
      title: "Overview",
      nav: "/",
      live: "overview",
      statuses: hostStatuses.map((status) => ({ status, n: byStatus.get(status) ?? 0 })),
      total: facets.reduce((n, f) => n + f.hosts, 0),
      staleMinutes: Math.round(ctx.staleAfterMs / 60_000),
      channels: [...byChannel.entries()]
        .sort(([a], [b]) => (a ?? "\uffff").localeCompare(b ?? "\uffff"))
        .map(([channel, releases]) => ({
          channel,
          current: channel ? current.get(channel) ?? null : null,
          releases: [...releases.entries()].sort(([a], [b]) => (b ?? -1) - (a ?? -1)).map(([release, r]) => ({ release, ...r })),
        })),
      rollouts: channels.filter((c) => c.rollout && c.rollout.state !== "complete").map((c) => rolloutView(c)),
      cves: { distinct: cves.length, hosts: affected.total },
      migration,
    });
  });
}
