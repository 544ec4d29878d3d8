import type { FastifyInstance } from "fastify";
import { ResourceGroupCreate } from "../api.js";
import type { DirectoryContext } from "../context.js";
import { parse } from "../http.js";

export function resourceGroupRoutes(app: FastifyInstance, ctx: DirectoryContext): void {
  app.post("/v1/resource-groups", async (request, reply) => {
    const body = parse(ResourceGroupCreate, request.body);
    const rg = await ctx.storage.createResourceGroup({ ...body, createdAt: ctx.now().toISOString() });
    return reply.code(201).send(rg);
  });

  app.get("/v1/resource-groups", async () => ctx.storage.listResourceGroups());
}
