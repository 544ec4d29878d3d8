import type { FastifyInstance } from "fastify";
import { Report } from "../api.js";
import { etagMatches, renderConfig } from "../config.js";
import type { DirectoryContext } from "../context.js";
import { notFound, parse } from "../http.js";
import { applyReport } from "../rollout.js";

type Params = { Params: { name: string } };

/** The two routes an agent calls with its host token: poll the config, post a report. */
export function agentRoutes(app: FastifyInstance, ctx: DirectoryContext): void {
  const { storage, cache } = ctx;
  const reportsSincePrune = new Map<string, number>();

  // The hot path: a cached body and ETag per host; an unchanged poll is a 304 with no body.
  app.get<Params>("/v1/hosts/:name/config", { config: { hostAccess: true } }, async (request, reply) => {
    const name = request.params.name;
    const rendered = await cache.get(name, () => renderConfig(storage, name));
    if (!rendered) throw notFound(`host ${name}`);
    reply.header("etag", rendered.etag).header("cache-control", "no-cache");
    if (etagMatches(request.headers["if-none-match"], rendered.etag)) return reply.code(304).send();
    return reply.type("application/json; charset=utf-8").send(rendered.body);
  });

  app.post<Params>("/v1/hosts/:name/reports", { config: { hostAccess: true } }, async (request, reply) => {
    const report = parse(Report, request.body);
    const name = request.params.name;
    const now = ctx.now();
    const stored = await storage.addReport(name, report, now.toISOString());
    if (!stored) throw notFound(`host ${name}`);
    ctx.metrics.countReport(report.result);

    const n = reportsSincePrune.get(name) ?? 0;
    reportsSincePrune.set(name, (n + 1) % ctx.pruneEvery);
    if (n === 0) await storage.pruneReports(name, ctx.retention, now);

    if (report.release) {
      let moved = false;
      await storage.updateChannel(report.release.channel, (c) => {
        const next = applyReport(c, name, report);
        moved = next !== null && next.rollout?.state !== c.rollout?.state;
        return next;
      });
      // Complete or halted changes what the other hosts of the channel are given.
      if (moved) cache.invalidateAll();
    }
    return reply.code(201).send(stored);
  });
}
