import type { FastifyInstance, FastifyRequest } from "fastify";
import type { StoredReport } from "../../directory/api.js";
import { CongruentError } from "../../errors.js";
import { resultsOf, type HostCondition, type HostQuery, type HostRow } from "../../directory/fleet-storage.js";
import { notFound } from "../../directory/http.js";
import { effectiveRelease } from "../../directory/rollout.js";
import { pendingOf } from "../../directory/routes/hosts.js";
import type { ChannelRecord } from "../../directory/storage.js";
import type { WebContext } from "../index.js";
import { PAGE_SIZES, parseQuery, viewFromQuery, viewQuery, type HostView } from "../query.js";
import { sendPage } from "../render.js";
import { diffRuns } from "../run-diff.js";
import { nextWindow } from "../../agent/window.js";

const COLUMNS: [string | null, string][] = [
  ["name", "Host"],
  ["status", "Status"],
  ["rg", "Resource group"],
  [null, "Roles"],
  ["channel", "Channel"],
  ["release", "Release"],
  ["cve", "Open CVEs"],
  ["last", "Last report"],
];
const HISTORY = 20;
/** Export at most this many hosts at once (a fleet of tens of thousands still fits). */
const EXPORT_LIMIT = 100_000;

/** What release each listed host should run now, from its channel's rollout. */
export async function targetsOf(ctx: WebContext, rows: HostRow[]): Promise<Map<string, number | null>> {
  const channels = new Map((await ctx.dir.storage.listChannels()).map((c) => [c.name, c]));
  return new Map(rows.map((r) => [r.name, r.channel && channels.get(r.channel) ? effectiveRelease(channels.get(r.channel) as ChannelRecord, r.name) : null]));
}

/** One host's row as the hosts list shows it (the live updates send it too); null when it is gone. */
export async function hostRow(ctx: WebContext, name: string): Promise<HostRow | null> {
  const q: HostQuery = { where: [{ field: "name", op: "eq", value: name }], sort: "name", desc: false, limit: 1, offset: 0, staleBefore: ctx.staleBefore() };
  return (await ctx.dir.storage.fleet.queryHosts(q)).hosts[0] ?? null;
}

/** CSV field: quoted when it must be, and never read as a formula by a spreadsheet. */
function csvField(v: unknown): string {
  let s = v == null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function hostPages(web: FastifyInstance, ctx: WebContext): void {
  const { storage } = ctx.dir;

  /** The view's conditions, or the error that the page shows instead. */
  function conditions(view: HostView): { where: HostCondition[]; error?: string } {
    try {
      return { where: parseQuery(view.q) };
    } catch (error) {
      if (error instanceof CongruentError) return { where: [], error: error.message };
      throw error;
    }
  }

  web.get("/hosts", async (request, reply) => {
    const view = viewFromQuery(request.query as Record<string, unknown>);
    const { where, error } = conditions(view);
    const result = error ? { total: 0, hosts: [] } : await storage.fleet.queryHosts({ where, sort: view.sort, desc: view.desc, limit: view.per, offset: (view.page - 1) * view.per, staleBefore: ctx.staleBefore() });
    const pages = Math.max(1, Math.ceil(result.total / view.per));
    const first = (view.page - 1) * view.per + 1;
    return sendPage(request, reply, "hosts", {
      title: "Hosts",
      nav: "/hosts",
      live: "hosts",
      view,
      error,
      rows: result.hosts,
      targets: await targetsOf(ctx, result.hosts),
      total: result.total,
      pages,
      first,
      last: first + result.hosts.length - 1,
      columns: COLUMNS,
      pageSizes: PAGE_SIZES,
      selfUrl: `/hosts${viewQuery(view)}`,
      exportQuery: viewQuery({ ...view, page: 1, per: 50 }),
      sortLink: (key: HostView["sort"]) => viewQuery(view, { sort: key, desc: view.sort === key ? !view.desc : key === "cve" || key === "last", page: 1 }),
      pageLink: (page: number) => viewQuery(view, { page }),
    }, error ? 400 : 200);
  });

  // The export is exactly the view's filter and order, every page of it.
  for (const format of ["csv", "json"] as const) {
    web.get(`/hosts.${format}`, async (request: FastifyRequest, reply) => {
      const view = viewFromQuery(request.query as Record<string, unknown>);
      const { where, error } = conditions(view);
      if (error) return reply.code(400).type("application/json; charset=utf-8").send({ error, code: "E_WEB_QUERY", field: "q" });
      const { hosts } = await storage.fleet.queryHosts({ where, sort: view.sort, desc: view.desc, limit: EXPORT_LIMIT, offset: 0, staleBefore: ctx.staleBefore() });
      const targets = await targetsOf(ctx, hosts);
      const rows = hosts.map((h) => ({
        name: h.name,
        status: h.status,
        lastResult: h.lastResult,
        resourceGroup: h.resourceGroup,
        roles: h.roles,
        channel: h.channel,
        release: h.runningRelease?.number ?? null,
        lastReportRelease: h.lastRelease?.number ?? null,
        targetRelease: targets.get(h.name) ?? null,
        cves: h.cves,
        lastReportAt: h.lastReportAt,
      }));
      reply.header("content-disposition", `attachment; filename="hosts.${format}"`).header("cache-control", "no-store");
      if (format === "json") return reply.type("application/json; charset=utf-8").send({ query: view.q, sort: view.sort, desc: view.desc, total: rows.length, hosts: rows });
      const head = Object.keys(rows[0] ?? { name: 0, status: 0, lastResult: 0, resourceGroup: 0, roles: 0, channel: 0, release: 0, lastReportRelease: 0, targetRelease: 0, cves: 0, lastReportAt: 0 });
      const lines = [head.join(","), ...rows.map((r) => Object.values(r).map((v) => csvField(Array.isArray(v) ? v.join(" ") : v)).join(","))];
      return reply.type("text/csv; charset=utf-8").send(`${lines.join("\r\n")}\r\n`);
    });
  }

  web.get<{ Params: { name: string }; Querystring: { changes?: string; before?: string; run?: string | string[] } }>("/hosts/:name", async (request, reply) => {
    const host = await storage.getHost(request.params.name);
    const row = host ? await hostRow(ctx, host.name) : null;
    if (!host || !row) throw notFound(`host ${request.params.name}`);
    const changesOnly = request.query.changes === "1";
    const before = Number.parseInt(request.query.before ?? "", 10);
    // "Changes only" filters on the server: read further back until a page is full (bounded).
    const runs: StoredReport[] = [];
    let cursor = Number.isFinite(before) ? before : Number.MAX_SAFE_INTEGER;
    let older: number | null = null;
    for (let round = 0; round < 10 && runs.length < HISTORY; round++) {
      const batch = await storage.listReports(host.name, 100, cursor);
      for (const r of batch) {
        if (runs.length === HISTORY) break;
        if (!changesOnly || r.result !== "unchanged" || r.plan.some((p) => p.action !== "none") || r.deferred.length > 0) runs.push(r);
        cursor = r.id;
      }
      if (batch.length < 100) break;
    }
    if (runs.length === HISTORY && (await storage.listReports(host.name, 1, cursor)).length) older = cursor;
    const latest = await storage.listReports(host.name, 20);
    const channel = host.channel ? await storage.getChannel(host.channel) : null;
    const targetNumber = channel ? effectiveRelease(channel, host.name) : null;
    const target = channel && targetNumber !== null ? await storage.getRelease(channel.name, targetNumber) : null;
    const picked = ([] as string[]).concat(request.query.run ?? []).map(Number).filter(Number.isInteger).slice(0, 2);
    let diff = null;
    if (picked.length === 2) {
      const [a, b] = await Promise.all(picked.map((id) => storage.fleet.getReport(host.name, id)));
      if (a && b) diff = diffRuns(a, b);
    }
    return sendPage(request, reply, "host", {
      title: `Host ${host.name}`,
      nav: "/hosts",
      live: "host",
      liveHost: host.name,
      host,
      row,
      target,
      canary: channel?.rollout?.canaryHosts.includes(host.name) ?? false,
      nextWindow: host.maintenanceWindow ? nextWindow(request.dashboard.now, host.maintenanceWindow).toISOString() : null,
      pending: pendingOf(latest),
      services: latest[0]?.services ?? [],
      cves: await storage.fleet.cvesOfHost(host.name),
      // The agent's own words when its last run failed (a build error names file and line).
      lastError: latest[0] && resultsOf.failed.includes(latest[0].result) ? (latest[0].error ?? latest[0].result) : null,
      usage: await storage.reportUsage(host.name),
      caps: { reports: ctx.dir.retention.maxReports ?? null, bytes: ctx.dir.retention.maxBytes ?? null },
      runs,
      older,
      changesOnly,
      diff,
    });
  });
}
