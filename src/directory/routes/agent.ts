import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Report } from "../api.js";
import { etagMatches, renderConfig } from "../config.js";
import type { DirectoryContext } from "../context.js";
import { notFound, parse, RequestError } from "../http.js";
import { applyReport } from "../rollout.js";

type Params = { Params: { name: string } };

/** One report's body at most: a plan of a thousand entries with their reasons fits easily. */
export const REPORT_BODY_LIMIT = 256 * 1024;

/** The two routes an agent calls with its host token: poll the config, post a report. */
export function agentRoutes(app: FastifyInstance, ctx: DirectoryContext): void {
  const { storage, cache } = ctx;

  // The hot path: a cached body and ETag per host; an unchanged poll is a 304 with no body.
  app.get<Params>("/v1/hosts/:name/config", { config: { hostAccess: true } }, async (request, reply) => {
    const name = request.params.name;
    const rendered = await cache.get(name, () => renderConfig(storage, name));
    if (!rendered) throw notFound(`host ${name}`);
    reply.header("etag", rendered.etag).header("cache-control", "no-cache");
    if (etagMatches(request.headers["if-none-match"], rendered.etag)) return reply.code(304).send();
    return reply.type("application/json; charset=utf-8").send(rendered.body);
  });

  // A host's reports are limited in rate before their body is read, and held to the retention
  // caps as each is stored: a host token cannot fill the directory's disk.
  const limitRate = async (request: FastifyRequest<Params>, reply: FastifyReply) => {
    const wait = ctx.reportLimiter.take(request.params.name);
    if (wait === undefined) return;
    ctx.metrics.countRefusedReport();
    reply.header("retry-after", String(wait));
    throw new RequestError("E_DIRECTORY_RATE_LIMITED", `host ${request.params.name} sends reports faster than the directory takes them; try again in ${wait} s`);
  };

  app.post<Params>("/v1/hosts/:name/reports", { config: { hostAccess: true }, onRequest: limitRate, bodyLimit: REPORT_BODY_LIMIT }, async (request, reply) => {
    const report = parse(Report, request.body);
    const name = request.params.name;
    const stored = await storage.addReport(name, report, ctx.now().toISOString(), ctx.retention);
    if (!stored) throw notFound(`host ${name}`);
    ctx.metrics.countReport(report.result);
    ctx.events.emit("report", stored);

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
