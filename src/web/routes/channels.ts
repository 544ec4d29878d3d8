import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { nextWindow } from "../../agent/window.js";
import { resultsOf } from "../../directory/fleet-storage.js";
import { notFound } from "../../directory/http.js";
import { effectiveRelease, pickCanaries } from "../../directory/rollout.js";
import type { ChannelRecord, HostState } from "../../directory/storage.js";
import { forecastRollout } from "../forecast.js";
import type { WebContext } from "../index.js";
import { previewRelease } from "../preview.js";
import { sendPage } from "../render.js";

type Params = { Params: { name: string } };
/** What an admin can do to a channel from the dashboard: each is the /v1 route of the same name. */
const VERBS = ["pause", "resume", "continue", "promote", "rollback"] as const;
type Verb = (typeof VERBS)[number];
type Progress = "done" | "pending" | "failed" | "waiting";

/**
 * A rollout in brief (overview, channels list): its state as shown — paused told apart from
 * halted by a failure, a canary phase waiting for a canary's window told apart from one running.
 */
export function rolloutView(c: ChannelRecord) {
  const r = c.rollout!;
  const waiting = r.waiting ?? [];
  const state = r.paused ? "paused" : r.state === "canary" && waiting.length > 0 ? "waiting" : r.state;
  return { channel: c.name, release: r.release, state, forcedAt: r.forcedAt ?? null, canaries: r.canaryHosts.length, succeeded: r.succeeded.length, waiting: waiting.length, failed: r.failed.length };
}

/** Where one host stands in the rollout of `release` (for a canary, as the rollout itself counted it). */
function progressOf(h: HostState, release: number, channel: string, r: { failed: Set<string>; waiting: Set<string> }): Progress {
  if (r.failed.has(h.name)) return "failed";
  if (r.waiting.has(h.name)) return "waiting";
  const reported = h.lastRelease?.channel === channel && h.lastRelease.number === release;
  if (!reported) return "pending";
  if (h.lastResult === "deferred") return "waiting";
  if (resultsOf.ok.includes(h.lastResult ?? "")) return "done";
  return resultsOf.failed.includes(h.lastResult ?? "") ? "failed" : "pending";
}

export function channelPages(web: FastifyInstance, ctx: WebContext): void {
  const { storage } = ctx.dir;

  async function channelOr404(name: string): Promise<ChannelRecord> {
    const c = await storage.getChannel(name);
    if (!c) throw notFound(`channel ${name}`);
    return c;
  }

  web.get("/channels", async (request, reply) => {
    const channels = await storage.listChannels();
    const rows = await Promise.all(channels.map(async (c) => ({ c, hosts: (await storage.listHostStates({ channel: c.name })).length, rollout: c.rollout ? rolloutView(c) : null })));
    return sendPage(request, reply, "channels", { title: "Channels", nav: "/channels", live: "channels", rows });
  });

  web.get<Params & { Querystring: { done?: string } }>("/channels/:name", async (request, reply) => {
    const c = await channelOr404(request.params.name);
    const [states, hosts, releases] = await Promise.all([storage.listHostStates({ channel: c.name }), storage.listHosts({ channel: c.name }), storage.listReleases(c.name)]);
    const windows = new Map(hosts.map((h) => [h.name, h.maintenanceWindow ?? null]));
    const r = c.rollout;
    let rollout = null;
    if (r) {
      const counted = { failed: new Set(r.failed.map((f) => f.host)), waiting: new Set(r.waiting ?? []) };
      const canaries = new Set(r.canaryHosts);
      const now = request.dashboard.now;
      const rows = states.map((h) => {
        const window = windows.get(h.name) ?? null;
        const progress = progressOf(h, r.release, c.name, counted);
        return { ...h, canary: canaries.has(h.name), progress, window, nextWindow: progress === "waiting" && window ? nextWindow(now, window).toISOString() : null, target: effectiveRelease(c, h.name) };
      });
      const rest = rows.filter((h) => !h.canary);
      const count = (p: Progress) => rest.filter((h) => h.progress === p).length;
      rollout = {
        ...rolloutView(c),
        startedAt: r.startedAt,
        paused: r.paused ?? null,
        failures: r.failed,
        canaryRows: rows.filter((h) => h.canary),
        rest: { total: rest.length, done: count("done"), pending: count("pending"), failed: count("failed"), waiting: count("waiting") },
        // The rest's hosts that need a look, at most 100 of them.
        restAttention: rest.filter((h) => h.progress === "failed" || h.progress === "waiting").slice(0, 100),
      };
    }
    return sendPage(request, reply, "channel", {
      title: `Channel ${c.name}`,
      nav: "/channels",
      live: "channel",
      channel: c,
      rollout,
      members: states.length,
      releases: [...releases].reverse(),
      promotable: releases.filter((x) => c.current === null || x.number > c.current || (x.number === c.current && r !== null && r.state !== "complete")),
      older: releases.filter((x) => c.current !== null && x.number < c.current),
      done: request.query.done,
    });
  });

  web.get<{ Params: { name: string; number: string } }>("/channels/:name/releases/:number", async (request, reply) => {
    const c = await channelOr404(request.params.name);
    const to = await storage.getRelease(c.name, Number(request.params.number));
    if (!to) throw notFound(`release ${request.params.number} of channel ${c.name}`);
    const from = c.current !== null ? await storage.getRelease(c.name, c.current) : null;
    const hosts = await storage.listHosts({ channel: c.name });
    const preview = previewRelease(from && from.number !== to.number ? from : null, to, hosts);
    const canaries = new Set(c.canaryShare >= 100 ? [] : pickCanaries(hosts.map((h) => h.name), c.canaryShare));
    const actions = new Map(preview.hosts.map((h) => [h.host, h.action]));
    const forecast = forecastRollout(
      request.dashboard.now,
      ctx.agentIntervalMs,
      hosts.map((h) => ({ host: h.name, canary: canaries.has(h.name), action: actions.get(h.name) ?? "none", window: h.maintenanceWindow ?? null })),
    );
    const byAction = new Map<string, number>();
    for (const h of preview.hosts) byAction.set(h.action, (byAction.get(h.action) ?? 0) + 1);
    return sendPage(request, reply, "preview", {
      title: `Release ${c.name}#${to.number}`,
      nav: "/channels",
      channel: c,
      from,
      to,
      preview,
      byAction: [...byAction.entries()],
      forecast: forecast.sort((a, b) => (a.by ?? "~").localeCompare(b.by ?? "~") || a.host.localeCompare(b.host)),
      canaries: [...canaries],
      promotable: c.current === null || to.number > c.current || (to.number === c.current && c.rollout !== null && c.rollout.state !== "complete"),
    });
  });

  /** An admin's action, done through the /v1 API in-process: the same checks, errors and cache invalidation as the CLI's. */
  function action(verb: Verb) {
    return async (request: FastifyRequest<Params & { Body: { number?: string; canaryShare?: string } }>, reply: FastifyReply) => {
      const name = request.params.name;
      const body: Record<string, number> = {};
      if (verb === "promote" || verb === "rollback") body.number = Number(request.body?.number);
      if (verb === "promote" && request.body?.canaryShare) body.canaryShare = Number(request.body.canaryShare);
      const answer = await ctx.api({ method: "POST", url: `/v1/channels/${encodeURIComponent(name)}/${verb}`, payload: body, headers: { "x-congruent-dashboard-user": request.dashboard.session!.name } });
      request.log.info({ user: request.dashboard.session!.name, channel: name, action: verb, status: answer.statusCode }, "dashboard action");
      if (answer.statusCode >= 400) {
        const message = (JSON.parse(answer.body) as { error?: string }).error ?? `HTTP ${answer.statusCode}`;
        return sendPage(request, reply, "error", { title: "Refused", heading: `${verb} refused`, message, back: `/channels/${encodeURIComponent(name)}` }, answer.statusCode);
      }
      ctx.live.poke();
      return reply.redirect(`/channels/${encodeURIComponent(name)}?done=${verb}`, 303);
    };
  }
  type Action = Params & { Body: { number?: string; canaryShare?: string } };
  for (const verb of VERBS) web.post<Action>(`/channels/:name/${verb}`, { config: { write: true }, preHandler: web.csrfProtection }, action(verb));
}

