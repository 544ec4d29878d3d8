import type { FastifyInstance } from "fastify";
import { buildReport } from "../../migrate/report.js";
import type { InventorySummary } from "../../directory/fleet-storage.js";
import type { WebContext } from "../index.js";
import { sendPage } from "../render.js";

/** red: blockers hold it back; yellow: ready, with convergent items to convert; green: ready, nothing to convert. */
export function migrationColour(s: InventorySummary): "green" | "yellow" | "red" {
  if (s.blockers > 0 || !s.ready) return "red";
  return s.convergent > 0 ? "yellow" : "green";
}

export interface ProgressPoint {
  day: string;
  hosts: number;
  ready: number;
  /** Share of all inventoried items that are congruent, 0–1. */
  green: number;
}

/**
 * The fleet's progress over time: for each day with an upload, the fleet as of that day's end
 * (each legacy host's latest inventory by then).
 */
export function progressOverTime(history: { host: string; receivedAt: string; summary: InventorySummary }[]): ProgressPoint[] {
  const latest = new Map<string, InventorySummary>();
  const points: ProgressPoint[] = [];
  const close = (day: string) => {
    const all = [...latest.values()];
    const items = all.reduce((n, s) => n + s.items, 0);
    points.push({ day, hosts: all.length, ready: all.filter((s) => migrationColour(s) !== "red").length, green: items ? all.reduce((n, s) => n + s.congruent, 0) / items : 0 });
  };
  let day: string | null = null;
  for (const h of history) {
    const d = h.receivedAt.slice(0, 10);
    if (day !== null && d !== day) close(day);
    day = d;
    latest.set(h.host, h.summary);
  }
  if (day !== null) close(day);
  return points;
}

/** Each legacy host's colour and blockers (the directory's /v1/migrate inventories and report), and the progress over time. */
export function migrationPages(web: FastifyInstance, ctx: WebContext): void {
  const { storage } = ctx.dir;
  web.get("/migration", async (request, reply) => {
    const [inventories, history] = await Promise.all([storage.listInventories(), storage.fleet.inventoryHistory()]);
    const report = buildReport(inventories.map((inv) => ({ file: `/v1/migrate/inventories/${encodeURIComponent(inv.host)}`, inv })));
    const colours = new Map(inventories.map((i) => [i.host, migrationColour(i.summary)]));
    const progress = progressOverTime(history);
    return sendPage(request, reply, "migration", { title: "Migration", nav: "/migration", live: "migration", report, colours, progress: progress.slice(-60) });
  });
}
