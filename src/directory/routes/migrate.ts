import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { buildReport } from "../../migrate/report.js";
import { reportHtml } from "../../migrate/report-html.js";
import type { Inventory } from "../../migrate/types.js";
import { LegacyHostName, MigrateInventory, MigrateReportQuery, type MigrateInventoryBrief } from "../api.js";
import type { DirectoryContext } from "../context.js";
import { notFound, parse, RequestError } from "../http.js";

type Params = { Params: { host: string } };

/** An inventory of a big host (50 000 CONTENTS entries, every item with its reason) runs to a few MB. */
export const INVENTORY_BODY_LIMIT = 32 * 1024 * 1024;

const HostParams = z.object({ host: LegacyHostName });

/** Where a stored inventory can be fetched whole; the fleet report names it as the host's `file`. */
const inventoryPath = (host: string) => `/v1/migrate/inventories/${encodeURIComponent(host)}`;

/**
 * The migration assessment's fleet view (admin token only: no host route here is `hostAccess`).
 * `migrate inventory --upload` puts each legacy host's inventory; the report is built from the
 * latest of each, by the same code as `migrate report --inventories DIR`.
 */
export function migrateRoutes(app: FastifyInstance, ctx: DirectoryContext): void {
  const { storage } = ctx;

  app.put<Params>("/v1/migrate/inventories/:host", { bodyLimit: INVENTORY_BODY_LIMIT }, async (request): Promise<MigrateInventoryBrief> => {
    const { host } = parse(HostParams, request.params, "params");
    parse(MigrateInventory, request.body);
    // The body as sent, not zod's output: that would drop the facts the schema does not name.
    const inventory = request.body as Inventory;
    if (inventory.host !== host) throw new RequestError("E_DIRECTORY_INVALID", `host: the inventory is of ${JSON.stringify(inventory.host)}, the URL names ${JSON.stringify(host)}`, "host");
    const { receivedAt, summary } = await storage.putInventory(host, inventory, ctx.now().toISOString());
    return { host, receivedAt, summary };
  });

  app.get("/v1/migrate/inventories", async (): Promise<MigrateInventoryBrief[]> =>
    (await storage.listInventories()).map(({ host, receivedAt, summary }) => ({ host, receivedAt, summary })),
  );

  app.get<Params>("/v1/migrate/inventories/:host", async (request) => {
    const { host } = parse(HostParams, request.params, "params");
    const stored = await storage.getInventory(host);
    if (!stored) throw notFound(`inventory of ${host}`);
    return stored.inventory;
  });

  app.get("/v1/migrate/report", async (request, reply) => {
    const { format } = parse(MigrateReportQuery, request.query, "query");
    const briefs = await storage.listInventories();
    const report = buildReport(briefs.map((b) => ({ file: inventoryPath(b.host), inv: b })));
    if (format === "html") return reply.type("text/html; charset=utf-8").send(reportHtml(report));
    return report;
  });
}
