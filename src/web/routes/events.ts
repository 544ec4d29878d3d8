import type { FastifyInstance } from "fastify";
import type { StoredReport } from "../../directory/api.js";
import type { HostCondition } from "../../directory/fleet-storage.js";
import type { WebContext } from "../index.js";
import { MAX_CLIENTS, type LiveClient } from "../live.js";
import { parseQuery } from "../query.js";
import { renderView } from "../render.js";
import { hostRow, targetsOf } from "./hosts.js";

/**
 * `GET /events?view=…`: the server-sent events a dashboard page listens to (live.js). Each
 * event is one new report: its host and result for every page, the host's rendered list row
 * for the hosts list (and whether it still matches the page's filter), the rendered run for
 * that host's own page.
 */
export function eventRoutes(web: FastifyInstance, ctx: WebContext): void {
  const { storage } = ctx.dir;
  // One report at a time reaches every client: what is the same for all of them is made once.
  let memo: { id: number; row?: Promise<string | null>; run?: string } = { id: -1 };

  async function rowHtml(r: StoredReport): Promise<string | null> {
    const row = await hostRow(ctx, r.host);
    if (!row) return null;
    return renderView("partials/host-row", { row, target: (await targetsOf(ctx, [row])).get(row.name), now: ctx.dir.now() });
  }

  ctx.live.fragment = async (r: StoredReport, client: LiveClient) => {
    if (memo.id !== r.id) memo = { id: r.id };
    const base = { id: r.id, host: r.host, result: r.result, receivedAt: r.receivedAt };
    if (client.view === "hosts") {
      memo.row ??= rowHtml(r);
      const where = client.where ?? [];
      const matches = where.length === 0 || (await storage.fleet.queryHosts({ where: [...where, { field: "name", op: "eq", value: r.host }], sort: "name", desc: false, limit: 0, offset: 0, staleBefore: ctx.staleBefore() })).total > 0;
      return { ...base, row: await memo.row, matches };
    }
    if (client.view === "host") {
      if (client.host !== r.host) return null;
      memo.run ??= renderView("partials/run", { run: r, now: ctx.dir.now() });
      return { ...base, run: memo.run };
    }
    return base;
  };

  web.get<{ Querystring: { view?: string; host?: string; q?: string; after?: string } }>("/events", async (request, reply) => {
    if (ctx.live.size >= MAX_CLIENTS) return reply.code(503).header("retry-after", "30").send({ error: "too many live pages open", code: "E_DIRECTORY_INVALID" });
    let where: HostCondition[] = [];
    try {
      where = parseQuery(request.query.q ?? "");
    } catch {
      // A filter the page itself showed as an error: rows still update, matching is not told.
    }
    const last = Number.parseInt(String(request.headers["last-event-id"] ?? request.query.after ?? ""), 10);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no", connection: "keep-alive" });
    // EventSource reconnects after 2 s (and sends Last-Event-ID): nothing is missed across a drop.
    res.write("retry: 2000\n\n");
    await ctx.live.add({ view: String(request.query.view ?? ""), host: request.query.host, where, session: request.dashboard.session!, res }, Number.isFinite(last) ? last : null);
  });
}
