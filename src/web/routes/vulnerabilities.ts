import type { FastifyInstance } from "fastify";
import type { WebContext } from "../index.js";
import { sendPage } from "../render.js";

const PER_PAGE = 50;

/** Vulnerabilities from both sides: by CVE (score, hosts, packages) and by host (its CVEs by score). */
export function vulnerabilityPages(web: FastifyInstance, ctx: WebContext): void {
  const { storage } = ctx.dir;
  web.get<{ Querystring: { by?: string; page?: string } }>("/vulnerabilities", async (request, reply) => {
    const byHost = request.query.by === "host";
    const page = Math.max(1, Number.parseInt(request.query.page ?? "1", 10) || 1);
    if (!byHost) {
      const cves = await storage.fleet.listCves();
      const shown = cves.slice((page - 1) * PER_PAGE, page * PER_PAGE);
      return sendPage(request, reply, "vulnerabilities", { title: "Vulnerabilities", nav: "/vulnerabilities", live: "vulnerabilities", byHost, cves: shown, total: cves.length, page, pages: Math.max(1, Math.ceil(cves.length / PER_PAGE)) });
    }
    const { total, hosts } = await storage.fleet.queryHosts({ where: [{ field: "cve", op: "gt", value: 0 }], sort: "cve", desc: true, limit: PER_PAGE, offset: (page - 1) * PER_PAGE, staleBefore: ctx.staleBefore() });
    const rows = await Promise.all(hosts.map(async (h) => ({ host: h, cves: await storage.fleet.cvesOfHost(h.name) })));
    return sendPage(request, reply, "vulnerabilities", { title: "Vulnerabilities by host", nav: "/vulnerabilities", live: "vulnerabilities", byHost, rows, total, page, pages: Math.max(1, Math.ceil(total / PER_PAGE)) });
  });
}
