import type { FastifyInstance } from "fastify";
import { ChannelCreate, ChannelRollback, Promote, ReleaseCreate, type Channel, type ChannelStatus, type MaintenanceWindow } from "../api.js";
import type { DirectoryContext } from "../context.js";
import { notFound, parse } from "../http.js";
import { nextWindow } from "../../agent/window.js";
import { continueRollout, effectiveRelease, promote, rollback } from "../rollout.js";
import { pause, resume } from "../rollout-control.js";
import { failureResults, type ChannelRecord } from "../storage.js";

/** When the window next opens (ISO), or null when its stored schedule cannot be read (stored before the schema refused it). */
function nextWindowOf(now: Date, w: MaintenanceWindow): string | null {
  try {
    return nextWindow(now, w).toISOString();
  } catch {
    return null;
  }
}

type Params = { Params: { name: string } };

export function channelView(c: ChannelRecord): Channel {
  const view: Channel = { name: c.name, canaryShare: c.canaryShare, createdAt: c.createdAt, current: c.current, previous: c.previous, rolledBack: c.rolledBack, rolloutState: c.rollout?.state ?? null };
  if (c.description !== undefined) view.description = c.description;
  return view;
}

export function channelRoutes(app: FastifyInstance, ctx: DirectoryContext): void {
  const { storage, cache } = ctx;

  async function getChannel(name: string): Promise<ChannelRecord> {
    const c = await storage.getChannel(name);
    if (!c) throw notFound(`channel ${name}`);
    return c;
  }

  async function status(c: ChannelRecord): Promise<ChannelStatus> {
    const hosts = await storage.listHostStates({ channel: c.name });
    const inChannel = (r: { channel: string; number: number } | null) => (r?.channel === c.name ? r.number : null);
    return {
      channel: c.name,
      canaryShare: c.canaryShare,
      current: c.current,
      previous: c.previous,
      rollout: c.rollout && { ...c.rollout, waiting: await waitingFor(c.rollout.waiting ?? []) },
      hosts: hosts.map((h) => ({
        name: h.name,
        release: inChannel(h.runningRelease),
        failed: h.lastResult !== null && (failureResults as readonly string[]).includes(h.lastResult) ? inChannel(h.lastRelease) : null,
        lastResult: h.lastResult,
        target: effectiveRelease(c, h.name),
      })),
    };
  }

  /** Each waiting canary with its window and when that next opens. */
  async function waitingFor(names: string[]): Promise<NonNullable<ChannelStatus["rollout"]>["waiting"]> {
    const now = ctx.now();
    return Promise.all(
      names.map(async (host) => {
        const w = (await storage.getHost(host))?.maintenanceWindow;
        return { host, window: w ? `${w.schedule} ${w.timezone}` : null, nextWindow: w ? nextWindowOf(now, w) : null };
      }),
    );
  }

  async function requireRelease(channel: string, number: number): Promise<void> {
    if (!(await storage.getRelease(channel, number))) throw notFound(`release ${number} of channel ${channel}`, "number");
  }

  app.post("/v1/channels", async (request, reply) => {
    const body = parse(ChannelCreate, request.body);
    const c = await storage.createChannel({ ...body, createdAt: ctx.now().toISOString(), current: null, previous: null, rolledBack: false, rollout: null });
    return reply.code(201).send(channelView(c));
  });

  app.get("/v1/channels", async () => (await storage.listChannels()).map(channelView));

  app.get<Params>("/v1/channels/:name", async (request) => channelView(await getChannel(request.params.name)));

  app.post<Params>("/v1/channels/:name/releases", async (request, reply) => {
    const body = parse(ReleaseCreate, request.body);
    const release = await storage.createRelease(request.params.name, body, ctx.now().toISOString());
    if (!release) throw notFound(`channel ${request.params.name}`);
    return reply.code(201).send(release);
  });

  app.get<Params>("/v1/channels/:name/releases", async (request) => {
    await getChannel(request.params.name);
    return storage.listReleases(request.params.name);
  });

  app.post<Params>("/v1/channels/:name/promote", async (request) => {
    const body = parse(Promote, request.body);
    const c = await getChannel(request.params.name);
    await requireRelease(c.name, body.number);
    const members = (await storage.listHostStates({ channel: c.name })).map((h) => h.name);
    const now = ctx.now().toISOString();
    const after = await storage.updateChannel(c.name, (fresh) => promote(fresh, body.number, body.canaryShare ?? fresh.canaryShare, members, now));
    cache.invalidateAll();
    return status(after!);
  });

  app.post<Params>("/v1/channels/:name/rollback", async (request) => {
    const body = parse(ChannelRollback, request.body);
    const c = await getChannel(request.params.name);
    await requireRelease(c.name, body.number);
    const after = await storage.updateChannel(c.name, (fresh) => rollback(fresh, body.number));
    cache.invalidateAll();
    return status(after!);
  });

  app.post<Params>("/v1/channels/:name/continue", async (request) => {
    const c = await getChannel(request.params.name);
    const after = await storage.updateChannel(c.name, (fresh) => continueRollout(fresh, ctx.now().toISOString()));
    cache.invalidateAll();
    return status(after!);
  });

  app.get<Params>("/v1/channels/:name/status", async (request) => status(await getChannel(request.params.name)));

  // Pause and resume change no host's release by themselves (canaries keep it, the rest wait),
  // but resuming may complete the rollout: configs are re-rendered either way.
  app.post<Params>("/v1/channels/:name/pause", async (request) => {
    const c = await getChannel(request.params.name);
    const after = await storage.updateChannel(c.name, (fresh) => pause(fresh, "admin", ctx.now().toISOString()));
    cache.invalidateAll();
    return status(after!);
  });

  app.post<Params>("/v1/channels/:name/resume", async (request) => {
    const c = await getChannel(request.params.name);
    const members = await storage.listHostStates({ channel: c.name });
    const after = await storage.updateChannel(c.name, (fresh) => resume(fresh, members));
    cache.invalidateAll();
    return status(after!);
  });
}
