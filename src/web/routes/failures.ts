import type { FastifyInstance } from "fastify";
import { resultsOf } from "../../directory/fleet-storage.js";
import type { WebContext } from "../index.js";
import { sendPage } from "../render.js";

/** Failures across the fleet, grouped by error signature (src/directory/error-signature.ts). */
export function failurePages(web: FastifyInstance, ctx: WebContext): void {
  const { storage } = ctx.dir;
  web.get("/failures", async (request, reply) => {
    const [groups, states] = await Promise.all([storage.fleet.failureGroups(100), storage.listHostStates()]);
    const current = new Map(states.map((s) => [s.name, s]));
    const failedNow = new Set(states.filter((s) => resultsOf.failed.includes(s.lastResult ?? "")).map((s) => s.name));
    const rows = groups.map((g) => ({ ...g, failingNow: g.hosts.filter((h) => failedNow.has(h.host)).length, hosts: g.hosts.map((h) => ({ ...h, now: current.get(h.host)?.lastResult ?? null })) }));
    return sendPage(request, reply, "failures", { title: "Failures", nav: "/failures", live: "failures", groups: rows });
  });
}
