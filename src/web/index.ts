import path from "node:path";
import { constants as zlib } from "node:zlib";
import compress from "@fastify/compress";
import cookie from "@fastify/cookie";
import csrf from "@fastify/csrf-protection";
import formbody from "@fastify/formbody";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest, InjectOptions } from "fastify";
import type { DirectoryContext } from "../directory/context.js";
import { errorBody } from "../directory/http.js";
import { LiveHub } from "./live.js";
import { sendPage, WEB_DIR } from "./render.js";
import { authRoutes } from "./routes/auth.js";
import { channelPages } from "./routes/channels.js";
import { eventRoutes } from "./routes/events.js";
import { failurePages } from "./routes/failures.js";
import { hostPages } from "./routes/hosts.js";
import { migrationPages } from "./routes/migration.js";
import { overviewPage } from "./routes/overview.js";
import { vulnerabilityPages } from "./routes/vulnerabilities.js";
import { cookieOptions, Sessions } from "./session.js";

export interface DashboardOptions {
  adminTokenHash: string;
  /** A host whose last report is older than this is stale (default 20 min: the agent's 10 min timer, its 3 min splay, a grace). */
  staleAfterMs?: number;
  /** Upper bound on the time to an agent's next run, for forecasts (default 13 min: interval plus splay). */
  agentIntervalMs?: number;
  /** Calls the directory's own /v1 API in-process with admin rights (the dashboard's writes are the API's writes). */
  api: (opts: InjectOptions) => Promise<{ statusCode: number; body: string }>;
}

/** What every dashboard route file gets. */
export interface WebContext {
  dir: DirectoryContext;
  sessions: Sessions;
  live: LiveHub;
  staleAfterMs: number;
  agentIntervalMs: number;
  staleBefore(): string;
  api: DashboardOptions["api"];
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** A dashboard route: the session cookie authenticates, not a bearer token (see src/web). */
    dashboard?: boolean;
    /** A dashboard route anyone may load (login, styles, script). */
    anonymous?: boolean;
    /** A dashboard route that changes something: admin session and CSRF token required. */
    write?: boolean;
  }
}

/**
 * The fleet dashboard at `/`, on the directory's own fastify (same port, same storage). Its
 * plugins — cookies, form bodies, CSRF, compression, static files — are registered inside this
 * encapsulated context, so the /v1 API and the agents' hot path are untouched by them.
 *
 * @example app.register(dashboard(ctx, { adminTokenHash, api: (o) => app.inject(o) }))
 */
export function dashboard(dir: DirectoryContext, opts: DashboardOptions) {
  return async function dashboardPlugin(web: FastifyInstance): Promise<void> {
    const sessions = new Sessions(opts.adminTokenHash, dir.storage, dir.now);
    const staleAfterMs = opts.staleAfterMs ?? 20 * 60_000;
    const ctx: WebContext = {
      dir,
      sessions,
      live: new LiveHub(dir, sessions, (error) => web.log.error({ err: error }, "dashboard live updates failed")),
      staleAfterMs,
      agentIntervalMs: opts.agentIntervalMs ?? 13 * 60_000,
      staleBefore: () => new Date(dir.now().getTime() - staleAfterMs).toISOString(),
      api: opts.api,
    };
    dir.events.on("report", () => ctx.live.poke());
    web.addHook("preClose", async () => ctx.live.close());

    web.addHook("onRoute", (route) => {
      route.config = { ...(route.config as object), dashboard: true, ...(route.url.startsWith("/assets/") ? { anonymous: true } : {}) };
    });
    await web.register(cookie, { secret: sessions.cookieSecret });
    await web.register(formbody, { bodyLimit: 16 * 1024 });
    await web.register(csrf, {
      sessionPlugin: "@fastify/cookie",
      cookieKey: "congruent_csrf",
      cookieOpts: cookieOptions(),
      // A token is good only for the session it was made for (and "anonymous" for the login form).
      getUserInfo: (request: FastifyRequest) => request.dashboard?.session?.sid ?? "anonymous",
      csrfOpts: { hmacKey: sessions.cookieSecret },
    });
    // Brotli at quality 4: its default (11) costs tens of ms per page for a few percent.
    await web.register(compress, { global: true, threshold: 1024, encodings: ["br", "gzip"], brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } } });
    await web.register(fastifyStatic, { root: path.join(WEB_DIR, "assets"), prefix: "/assets/", maxAge: "365d", immutable: true, index: false, list: false });

    web.addHook("onRequest", async (request, reply) => {
      const config = request.routeOptions.config;
      request.dashboard = { session: null, now: dir.now(), csrf: () => reply.generateCsrf({ userInfo: request.dashboard.session?.sid ?? "anonymous" } as never) };
      if (config.anonymous) return;
      const safe = request.method === "GET" || request.method === "HEAD";
      const session = (await sessions.fromCookie(request)) ?? (safe ? await sessions.fromBearer(request) : null);
      if (!session) {
        if (safe && !request.headers.authorization) return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
        return sendPage(request, reply, "error", { title: "Log in", heading: "Not logged in", message: "log in with the admin token or a viewer token", back: "/login" }, 401);
      }
      request.dashboard.session = session;
    });
    web.addHook("preHandler", async (request, reply) => {
      if (!request.routeOptions.config.write) return;
      if (request.dashboard.session?.role !== "admin") {
        return sendPage(request, reply, "error", { title: "Read-only", heading: "Read-only", message: "a viewer token can look at everything and change nothing", back: request.headers.referer ? new URL(request.headers.referer).pathname : "/" }, 403);
      }
    });

    web.setErrorHandler((error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
      if (error.code === "FST_CSRF_INVALID_TOKEN" || error.code === "FST_CSRF_MISSING_SECRET") {
        return sendPage(request, reply, "error", { title: "Form expired", heading: "Form expired", message: "this form was not made for this session (or it is too old): reload the page and try again" }, 403);
      }
      const { status, body } = errorBody(error);
      if (status >= 500) request.log.error({ err: error }, "dashboard request failed");
      return sendPage(request, reply, "error", { title: "Error", heading: status === 404 ? "Not found" : "Error", message: body.error }, status);
    });

    authRoutes(web, ctx);
    overviewPage(web, ctx);
    hostPages(web, ctx);
    failurePages(web, ctx);
    channelPages(web, ctx);
    vulnerabilityPages(web, ctx);
    migrationPages(web, ctx);
    eventRoutes(web, ctx);
  };
}
