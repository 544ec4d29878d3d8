import type { ServerResponse } from "node:http";
import type { StoredReport } from "../directory/api.js";
import type { DirectoryContext } from "../directory/context.js";
import type { HostCondition } from "../directory/fleet-storage.js";
import type { Session, Sessions } from "./session.js";

/** One open page listening: which view, which host (host pages), and its connection. */
export interface LiveClient {
  view: string;
  host?: string;
  /** The hosts list's filter, when the page is one. */
  where?: HostCondition[];
  session: Session;
  res: ServerResponse;
}

/** What a batch of new reports becomes for one kind of page: the event's data, or null to send nothing. */
export type Fragment = (report: StoredReport, client: LiveClient) => Promise<Record<string, unknown> | null>;

const POLL_MS = 1000;
const HEARTBEAT_MS = 15_000;
const BATCH = 500;
/** Ids below the highest seen that are read again: a PostgreSQL transaction may commit a lower id later. */
const OVERLAP = 64;
export const MAX_CLIENTS = 1000;
/** A client that cannot keep up (its socket buffer holds this much) is dropped; it reconnects and catches up. */
const MAX_BUFFERED = 1 << 20;

/**
 * Server-sent events for every open dashboard page. New reports are read from storage (not
 * only from this process's own routes), so directories sharing one PostgreSQL database all
 * tell their pages: a report stored here pokes the hub at once, and while any page listens
 * the hub also reads every second. One read serves every client; each view gets its own data.
 */
export class LiveHub {
  private readonly clients = new Set<LiveClient>();
  private lastId: number | null = null;
  private readonly seen = new Set<number>();
  private poll: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Set by the events route: what each view is sent for a report. */
  fragment: Fragment = async () => null;

  constructor(
    private readonly dir: DirectoryContext,
    private readonly sessions: Sessions,
    private readonly onError: (error: unknown) => void,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Reports after `afterId` for a client that reconnects (EventSource's Last-Event-ID); the rest is live. */
  async add(client: LiveClient, afterId: number | null): Promise<void> {
    if (this.lastId === null) this.lastId = await this.dir.storage.fleet.latestReportId();
    this.clients.add(client);
    client.res.on("close", () => this.remove(client));
    if (afterId !== null && afterId < this.lastId) {
      const missed = await this.dir.storage.fleet.reportsAfter(afterId, BATCH);
      if (missed.length === BATCH) this.send(client, "reload", null, {});
      else for (const r of missed) await this.deliver(client, r);
    }
    this.poll ??= setInterval(() => this.poke(), POLL_MS);
    this.heartbeat ??= setInterval(() => void this.beat(), HEARTBEAT_MS);
  }

  private remove(client: LiveClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopTimers();
  }

  private stopTimers(): void {
    if (this.poll) clearInterval(this.poll);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.poll = this.heartbeat = null;
  }

  /** New reports may be there: read them (coalesced: one read at a time, one more if poked meanwhile). */
  poke(): void {
    if (this.clients.size === 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.read()
      .catch(this.onError)
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async read(): Promise<void> {
    const from = Math.max(0, (this.lastId ?? 0) - OVERLAP);
    const reports = (await this.dir.storage.fleet.reportsAfter(from, BATCH)).filter((r) => !this.seen.has(r.id));
    for (const r of reports) {
      this.seen.add(r.id);
      this.lastId = Math.max(this.lastId ?? 0, r.id);
    }
    // Only ids inside the overlap can come back: forget the rest.
    for (const id of this.seen) if (id <= (this.lastId ?? 0) - OVERLAP) this.seen.delete(id);
    for (const r of reports) for (const client of this.clients) await this.deliver(client, r);
    if (reports.length === BATCH) this.again = true;
  }

  private async deliver(client: LiveClient, r: StoredReport): Promise<void> {
    const data = await this.fragment(r, client);
    if (data) this.send(client, "report", r.id, data);
  }

  private send(client: LiveClient, event: string, id: number | null, data: unknown): void {
    const res = client.res;
    if (res.writableEnded) return;
    if (res.writableLength > MAX_BUFFERED) {
      res.end();
      return;
    }
    res.write(`${id !== null ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Keep proxies from closing idle streams, and end the streams of sessions that ended. */
  private async beat(): Promise<void> {
    for (const client of this.clients) {
      if (!(await this.sessions.stillValid(client.session))) {
        this.send(client, "logout", null, {});
        client.res.end();
      } else if (!client.res.writableEnded) client.res.write(": ping\n\n");
    }
  }

  /** The directory is closing: end every stream so the server can stop. */
  close(): void {
    for (const client of this.clients) client.res.end();
    this.clients.clear();
    this.stopTimers();
  }
}
