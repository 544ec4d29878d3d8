import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { describeHostSchema } from "../../schema/describe.js";
import { checkHostSettings } from "../../schema/host.js";
import { describeIssue, issuePath } from "../../schema/issue.js";
import { HostCreate, HostPatch, type Host, type HostDetail, type HostListItem, type StoredReport } from "../api.js";
import type { DirectoryContext } from "../context.js";
import { notFound, parse, RequestError, sha256 } from "../http.js";
import { forgetHost } from "../rollout.js";
import { newToken } from "../tokens.js";

type Params = { Params: { name: string } };

const ListQuery = z.object({ resourceGroup: z.string().optional(), channel: z.string().optional() });
/** `?limit=N&before=ID`: a page of the history, newest first, older than report ID. */
const ReportsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20), before: z.coerce.number().int().positive().optional() });

/**
 * What waits for the maintenance window: the deferred entries of the latest report that
 * deferred something, until a later report has none (the restart happened, or is no longer needed).
 */
export function pendingOf(reports: StoredReport[]): StoredReport["deferred"] {
  for (const r of reports) {
    if (r.deferred.length === 0) return [];
    if (r.result === "deferred") return r.deferred;
  }
  return [];
}

export function hostRoutes(app: FastifyInstance, ctx: DirectoryContext): void {
  const { storage, cache } = ctx;

  async function checkRefs(body: { resourceGroup?: string; channel?: string | null }): Promise<void> {
    if (body.resourceGroup !== undefined && !(await storage.getResourceGroup(body.resourceGroup))) throw notFound(`resource group ${body.resourceGroup}`, "resourceGroup");
    if (body.channel != null && !(await storage.getChannel(body.channel))) throw notFound(`channel ${body.channel}`, "channel");
  }

  /** A host leaving a channel must not hold up (or count in) that channel's canary phase. */
  async function leaveChannel(host: Host): Promise<void> {
    if (!host.channel) return;
    const before = await storage.getChannel(host.channel);
    const after = await storage.updateChannel(host.channel, (c) => forgetHost(c, host.name));
    if (after?.rollout?.state !== before?.rollout?.state) cache.invalidateAll();
  }

  async function getHost(name: string): Promise<Host> {
    const host = await storage.getHost(name);
    if (!host) throw notFound(`host ${name}`);
    return host;
  }

  app.post("/v1/hosts", async (request, reply) => {
    const body = parse(HostCreate, request.body);
    await checkRefs(body);
    const now = ctx.now().toISOString();
    const token = newToken();
    const host = await storage.createHost({ ...body, createdAt: now, updatedAt: now }, sha256(token));
    return reply.code(201).send({ host, token });
  });

  app.get("/v1/hosts", async (request): Promise<HostListItem[]> => {
    const q = parse(ListQuery, request.query, "query");
    const [hosts, states] = await Promise.all([storage.listHosts(q), storage.listHostStates(q)]);
    const last = new Map(states.map((s) => [s.name, s]));
    return hosts.map((h) => ({ ...h, lastResult: last.get(h.name)?.lastResult ?? null, lastReportAt: last.get(h.name)?.lastReportAt ?? null }));
  });

  app.get("/v1/schema", async () => describeHostSchema());

  app.get<Params>("/v1/hosts/:name", async (request): Promise<HostDetail> => {
    const host = await getHost(request.params.name);
    const reports = await storage.listReports(host.name, 20);
    return { host, lastReport: reports[0] ?? null, pending: pendingOf(reports) };
  });

  app.patch<Params>("/v1/hosts/:name", async (request) => {
    const patch = parse(HostPatch, request.body);
    const host = await getHost(request.params.name);
    await checkRefs(patch);
    const next: Host = { ...host, updatedAt: ctx.now().toISOString() };
    // Only what the body names changes; null removes the channel or the window.
    for (const [key, value] of Object.entries(patch) as [keyof typeof patch, unknown][]) {
      if (value === null) delete (next as Partial<Host>)[key];
      else if (value !== undefined) (next as Record<string, unknown>)[key] = value;
    }
    // Roles and settings may change apart: the host they make together must still hold.
    const issue = checkHostSettings(next)[0];
    if (issue) throw new RequestError("E_DIRECTORY_INVALID", describeIssue(issue), issuePath(issue.path));
    const updated = await storage.updateHost(next);
    if (!updated) throw notFound(`host ${host.name}`);
    if (host.channel && host.channel !== updated.channel) await leaveChannel(host);
    cache.invalidateHost(host.name);
    return updated;
  });

  app.delete<Params>("/v1/hosts/:name", async (request, reply) => {
    const host = await getHost(request.params.name);
    if (!(await storage.deleteHost(host.name))) throw notFound(`host ${host.name}`);
    await leaveChannel(host);
    cache.invalidateHost(host.name);
    return reply.code(204).send();
  });

  app.post<Params>("/v1/hosts/:name/token", async (request) => {
    const host = await getHost(request.params.name);
    const token = newToken();
    if (!(await storage.setHostTokenHash(host.name, sha256(token)))) throw notFound(`host ${host.name}`);
    return { host, token };
  });

  app.get<Params>("/v1/hosts/:name/reports", async (request) => {
    const { limit, before } = parse(ReportsQuery, request.query, "query");
    const host = await getHost(request.params.name);
    return storage.listReports(host.name, limit, before);
  });
}
