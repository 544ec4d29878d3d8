import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { DirectoryContext } from "../context.js";
import { notFound, parse, sha256 } from "../http.js";

type Params = { Params: { id: string } };

const TokenCreate = z.object({
  /** Only viewer tokens can be made: the admin token is the directory's own (serve --admin-token-file). */
  viewer: z.literal(true, { message: "only viewer tokens can be added (viewer: true)" }),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/, "letters, digits, '.', '_', '@' and '-', at most 63").optional(),
});

/** A new viewer token: 32 random bytes, URL-safe; only its sha256 is stored. */
const newViewerToken = () => `cgv_${randomBytes(32).toString("base64url")}`;

/**
 * Read-only tokens for the dashboard and for GET on /v1 (`congruent token add --viewer`):
 * admin token only (a viewer may list them: ids and names, never a secret).
 */
export function tokenRoutes(app: FastifyInstance, ctx: DirectoryContext): void {
  const { storage } = ctx;

  app.post("/v1/tokens", async (request, reply) => {
    const body = parse(TokenCreate, request.body);
    const id = `vt-${randomBytes(4).toString("hex")}`;
    const token = newViewerToken();
    const created = await storage.viewers.create({ id, name: body.name ?? id, createdAt: ctx.now().toISOString() }, sha256(token));
    return reply.code(201).send({ ...created, role: "viewer", token });
  });

  app.get("/v1/tokens", async () => (await storage.viewers.list()).map((t) => ({ ...t, role: "viewer" })));

  app.delete<Params>("/v1/tokens/:id", async (request, reply) => {
    if (!(await storage.viewers.remove(request.params.id))) throw notFound(`viewer token ${request.params.id}`);
    return reply.code(204).send();
  });
}
