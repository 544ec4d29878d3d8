import type { FastifyInstance } from "fastify";
import type { WebContext } from "../index.js";
import { sendPage } from "../render.js";

/** Only a path of this site: a login link must not send anyone elsewhere. */
const localPath = (next: unknown) => (typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/");

export function authRoutes(web: FastifyInstance, ctx: WebContext): void {
  web.get<{ Querystring: { next?: string } }>("/login", { config: { anonymous: true } }, async (request, reply) => {
    if (await ctx.sessions.fromCookie(request)) return reply.redirect(localPath(request.query.next), 303);
    return sendPage(request, reply, "login", { title: "Log in", next: localPath(request.query.next) });
  });

  web.post<{ Body: { token?: string; next?: string } }>("/login", { config: { anonymous: true }, preHandler: web.csrfProtection }, async (request, reply) => {
    const session = typeof request.body?.token === "string" ? await ctx.sessions.login(request.body.token) : null;
    if (!session) {
      request.log.warn({ ip: request.ip }, "dashboard login refused");
      return sendPage(request, reply, "login", { title: "Log in", next: localPath(request.body?.next), error: "not an admin or viewer token" }, 401);
    }
    request.log.info({ user: session.name, role: session.role }, "dashboard login");
    ctx.sessions.set(reply, session);
    return reply.redirect(localPath(request.body.next), 303);
  });

  web.post("/logout", { preHandler: web.csrfProtection }, async (_request, reply) => {
    ctx.sessions.clear(reply);
    return reply.redirect("/login", 303);
  });
}
