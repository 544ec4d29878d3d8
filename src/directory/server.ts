import { randomBytes, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
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
import { tokenRoutes } from "./routes/tokens.js";
import { dashboard } from "../web/index.js";
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
  /** The dashboard's notion of a stale host: no report for this long (default 20 min). */
  staleAfterMs?: number;
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
    events: new EventEmitter(),
  };
  const admin = Buffer.from(opts.adminTokenHash, "hex");
  // The dashboard's writes go through this API in-process, with a token that never leaves it.
  const internalToken = randomBytes(32).toString("base64url");
  const internal = Buffer.from(sha256(internalToken), "hex");

  app.addHook("onRequest", async (request) => {
    const config = request.routeOptions.config;
    if (config.public || config.dashboard) return;
    const header = request.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!token) throw new RequestError("E_DIRECTORY_AUTH", "missing bearer token (Authorization: Bearer <token>)");
    const hash = sha256(token);
    const given = Buffer.from(hash, "hex");
    if (given.length === admin.length && (timingSafeEqual(given, admin) || timingSafeEqual(given, internal))) return;
    const host = await opts.storage.hostByTokenHash(hash);
    if (!host) {
      // A viewer token (after host tokens: agents' polls are the hot path) reads, never writes.
      if (!(await opts.storage.viewers.byTokenHash(hash))) throw new RequestError("E_DIRECTORY_AUTH", "unknown token");
      if (request.method === "GET" || request.method === "HEAD") return;
      throw new RequestError("E_DIRECTORY_FORBIDDEN", "a viewer token is read-only");
    }
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
  tokenRoutes(app, ctx);
  app.register(
    dashboard(ctx, {
      adminTokenHash: opts.adminTokenHash,
      staleAfterMs: opts.staleAfterMs,
      api: (o) => app.inject({ ...o, headers: { ...o.headers, authorization: `Bearer ${internalToken}` } }),
    }),
  );
  return app;
}
