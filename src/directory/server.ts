import { timingSafeEqual } from "node:crypto";
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from "fastify";
import { LEGACY_NAME_MAX } from "../schema/names.js";
import { ConfigCache } from "./config.js";
import type { DirectoryContext } from "./context.js";
import { RequestError, sendError, sha256 } from "./http.js";
import { createMetrics } from "./metrics.js";
import { defaultReportRate, RateLimiter, type ReportRate } from "./rate-limit.js";
import { agentRoutes } from "./routes/agent.js";
import { channelRoutes } from "./routes/channels.js";
import { hostRoutes } from "./routes/hosts.js";
import { migrateRoutes } from "./routes/migrate.js";
import { resourceGroupRoutes } from "./routes/resource-groups.js";
import { defaultRetention, type RetentionPolicy, type Storage } from "./storage.js";

export interface DirectoryOptions {
  storage: Storage;
  /** sha256 (hex) of the admin token. */
  adminTokenHash: string;
  /** Fastify's `logger` option (true, false, or pino options such as `{ level, stream }`). */
  logger?: FastifyServerOptions["logger"];
  /** What each host may keep (default {@link defaultRetention}); enforced with every report. */
  retention?: RetentionPolicy;
  /** How fast each host may send reports (default {@link defaultReportRate}). */
  reportRate?: ReportRate;
  /** Bound on a cached config's age; set it when several directories share one database. */
  configCacheTtlMs?: number;
  /** Request body limit in bytes (default 256 KiB; `PUT /v1/migrate/inventories/:host` has its own 32 MiB). */
  bodyLimit?: number;
  /** Serve HTTPS with this certificate and key (PEM); `app.server.setSecureContext` replaces them. */
  https?: { cert: Buffer; key: Buffer };
  now?: () => Date;
}

/** Where the token may hide in what pino logs. */
const REDACT = ["req.headers.authorization", "req.headers.Authorization", "headers.authorization", "token", "*.token"];

/**
 * The directory's HTTP API (`/v1`), ready to `listen` or to `inject` in tests.
 *
 * Auth: `Authorization: Bearer <token>`. The admin token may do everything; a host token may
 * only GET its own `/config` and POST its own `/reports` (403 otherwise); a missing or unknown
 * token is 401. `/v1/health` and `/metrics` need no token.
 *
 * @example const app = buildDirectory({ storage, adminTokenHash: sha256(token) });
 *          await app.listen({ host: "127.0.0.1", port: 8470 });
 */
export function buildDirectory(opts: DirectoryOptions): FastifyInstance {
  const logger = typeof opts.logger === "object" && opts.logger !== null ? { ...opts.logger, redact: { paths: REDACT, censor: "[redacted]" } } : (opts.logger ?? false);
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    logger,
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Every name the schema allows must reach its route (fastify's default stops at 100 characters).
    routerOptions: { maxParamLength: 3 * LEGACY_NAME_MAX },
  });
  const now = opts.now ?? (() => new Date());
  const ctx: DirectoryContext = {
    storage: opts.storage,
    cache: new ConfigCache(opts.configCacheTtlMs),
    metrics: createMetrics(opts.storage, now),
    retention: opts.retention ?? defaultRetention,
    reportLimiter: new RateLimiter(opts.reportRate ?? defaultReportRate, () => now().getTime()),
    now,
  };
  const admin = Buffer.from(opts.adminTokenHash, "hex");

  app.addHook("onRequest", async (request) => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const header = request.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!token) throw new RequestError("E_DIRECTORY_AUTH", "missing bearer token (Authorization: Bearer <token>)");
    const hash = sha256(token);
    const given = Buffer.from(hash, "hex");
    if (given.length === admin.length && timingSafeEqual(given, admin)) return;
    const host = await opts.storage.hostByTokenHash(hash);
    if (!host) throw new RequestError("E_DIRECTORY_AUTH", "unknown token");
    const own = (request.params as { name?: string }).name === host;
    if (!config.hostAccess || !own) throw new RequestError("E_DIRECTORY_FORBIDDEN", `host ${host}'s token may only read its own config and post its own reports`);
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    ctx.metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    // Polls are the bulk of the traffic: logged only at debug level. Bodies are never logged.
    const level = route === "/v1/hosts/:name/config" && reply.statusCode < 400 ? "debug" : "info";
    request.log[level]({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, "request");
  });

  app.setErrorHandler((error, request, reply) => sendError(error as Error, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new RequestError("E_DIRECTORY_NOT_FOUND", `no route ${request.method} ${request.url}`), request, reply));

  app.get("/v1/health", { config: { public: true } }, async () => ({ status: "ok", schemaVersion: opts.storage.schemaVersion }));
  app.get("/metrics", { config: { public: true } }, async (_request, reply) => {
    await ctx.metrics.refresh();
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  resourceGroupRoutes(app, ctx);
  hostRoutes(app, ctx);
  agentRoutes(app, ctx);
  channelRoutes(app, ctx);
  migrateRoutes(app, ctx);
  return app;
}
