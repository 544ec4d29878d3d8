import type { z } from "zod";
import type { FleetReport } from "../migrate/report.js";
import type { Inventory } from "../migrate/types.js";
import type * as api from "./api.js";
import type { HostSchemaDescription } from "../schema/describe.js";
import { STATUS_CODES } from "node:http";
import { CongruentError } from "../errors.js";
import { httpRequest, type Answer } from "./http-request.js";

// Types only: the agent loads this file on every run, so it must not pull zod or fastify in.
type In<K extends keyof typeof api> = (typeof api)[K] extends z.ZodType ? z.input<(typeof api)[K]> : never;

export interface DirectoryClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8470 (a trailing slash is fine). */
  url: string;
  /** Admin token, or a host token for getConfig/postReport. */
  token: string;
  /** Per request; on expiry the directory counts as unreachable (default 10 000). */
  timeoutMs?: number;
  /** PEM certificate(s) of the CA that signed the directory's certificate (`--ca FILE`), trusted instead of the system's. */
  ca?: Buffer;
}

/** The directory answered with an error status. */
export class DirectoryHttpError extends CongruentError {
  constructor(
    message: string,
    readonly status: number,
    /** The server's code, e.g. E_DIRECTORY_FORBIDDEN. */
    readonly serverCode?: string,
    /** The offending field of a 400. */
    readonly field?: string,
  ) {
    super("E_DIRECTORY_HTTP", message);
  }
}

/** Returned once, at creation: the only time a viewer token is visible. */
export interface ViewerTokenCreated {
  id: string;
  name: string;
  role: "viewer";
  createdAt: string;
  token: string;
}

export type ConfigResult = { status: 200; etag: string; config: api.HostConfig } | { status: 304 };

/**
 * A small client for the directory's `/v1` API (node:http; see http-request.ts). Errors are
 * CongruentErrors: `E_DIRECTORY_UNREACHABLE` when no answer came (connection refused, DNS,
 * timeout, or a 502/503/504 from a proxy in front), so an agent can fall back to its saved
 * description; otherwise a {@link DirectoryHttpError} (`E_DIRECTORY_HTTP`) naming the URL, the
 * HTTP status and the server's message.
 *
 * @example const d = new DirectoryClient({ url: "http://127.0.0.1:8470", token });
 *          const r = await d.getConfig("web1", savedEtag); if (r.status === 200) use(r.config);
 */
export class DirectoryClient {
  readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly ca?: Buffer;

  constructor(opts: DirectoryClientOptions) {
    this.url = opts.url.replace(/\/+$/, "");
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.ca = opts.ca;
  }

  /** One request; returns the answer for 2xx and 304, throws otherwise. */
  private async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const url = `${this.url}${path}`;
    const all: Record<string, string> = { ...headers, authorization: `Bearer ${this.token}`, accept: "application/json" };
    if (body !== undefined) all["content-type"] = "application/json";
    let res: Answer;
    try {
      res = await httpRequest(method, url, all, body === undefined ? undefined : JSON.stringify(body), this.timeoutMs, this.ca);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const untrusted = /CERT|SELF_SIGNED|VERIFY|ERR_TLS/.test(e.code ?? "");
      const why = e.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : untrusted ? `${e.code}: its TLS certificate is not trusted; pass --ca FILE with the CA that signed it` : (e.code ?? e.message);
      throw new CongruentError("E_DIRECTORY_UNREACHABLE", `${method} ${url}: directory unreachable (${why})`);
    }
    if ((res.status >= 200 && res.status < 300) || res.status === 304) return res;
    let parsed: { error?: string; code?: string; field?: string } = {};
    try {
      parsed = JSON.parse(res.body);
    } catch {
      parsed = { error: res.body.slice(0, 200) };
    }
    const message = `${method} ${url}: HTTP ${res.status}: ${parsed.error ?? STATUS_CODES[res.status] ?? ""}`;
    if ([502, 503, 504].includes(res.status)) throw new CongruentError("E_DIRECTORY_UNREACHABLE", `${message} (directory unreachable behind a proxy, or shutting down)`);
    throw new DirectoryHttpError(message, res.status, parsed.code, parsed.field);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    return (res.status === 204 || res.body === "" ? undefined : JSON.parse(res.body)) as T;
  }

  // --- the agent's two calls ---

  /** The host's description; with the ETag of the one it has, an unchanged description is a bodiless 304. */
  async getConfig(host: string, etag?: string): Promise<ConfigResult> {
    const res = await this.send("GET", `/v1/hosts/${enc(host)}/config`, undefined, etag ? { "if-none-match": etag } : {});
    if (res.status === 304) return { status: 304 };
    return { status: 200, etag: String(res.headers.etag ?? ""), config: JSON.parse(res.body) as api.HostConfig };
  }

  postReport(host: string, report: In<"Report">): Promise<api.StoredReport> {
    return this.json("POST", `/v1/hosts/${enc(host)}/reports`, report);
  }

  // --- admin ---

  health(): Promise<{ status: string; schemaVersion: number }> {
    return this.json("GET", "/v1/health");
  }

  /** Prometheus text of GET /metrics. */
  async metrics(): Promise<string> {
    return (await this.send("GET", "/metrics")).body;
  }

  createResourceGroup(rg: In<"ResourceGroupCreate">): Promise<api.ResourceGroup> {
    return this.json("POST", "/v1/resource-groups", rg);
  }

  listResourceGroups(): Promise<api.ResourceGroup[]> {
    return this.json("GET", "/v1/resource-groups");
  }

  /** The returned token is shown this once. */
  createHost(host: In<"HostCreate">): Promise<api.HostCreated> {
    return this.json("POST", "/v1/hosts", host);
  }

  listHosts(filter: { resourceGroup?: string; channel?: string } = {}): Promise<api.HostListItem[]> {
    const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return this.json("GET", `/v1/hosts${q ? `?${q}` : ""}`);
  }

  getHost(name: string): Promise<api.HostDetail> {
    return this.json("GET", `/v1/hosts/${enc(name)}`);
  }

  /** Changes only the fields given; `channel: null` / `maintenanceWindow: null` remove them. */
  updateHost(name: string, patch: api.HostPatch): Promise<api.Host> {
    return this.json("PATCH", `/v1/hosts/${enc(name)}`, patch);
  }

  async deleteHost(name: string): Promise<void> {
    await this.send("DELETE", `/v1/hosts/${enc(name)}`);
  }

  /** A new token for the host; the old one stops working at once. */
  rotateToken(name: string): Promise<api.HostCreated> {
    return this.json("POST", `/v1/hosts/${enc(name)}/token`);
  }

  /** Newest first; `before` (a report id) pages back through the host's history. */
  listReports(host: string, limit = 20, before?: number): Promise<api.StoredReport[]> {
    return this.json("GET", `/v1/hosts/${enc(host)}/reports?limit=${limit}${before === undefined ? "" : `&before=${before}`}`);
  }

  createChannel(channel: In<"ChannelCreate">): Promise<api.Channel> {
    return this.json("POST", "/v1/channels", channel);
  }

  listChannels(): Promise<api.Channel[]> {
    return this.json("GET", "/v1/channels");
  }

  getChannel(name: string): Promise<api.Channel> {
    return this.json("GET", `/v1/channels/${enc(name)}`);
  }

  createRelease(channel: string, release: In<"ReleaseCreate">): Promise<api.Release> {
    return this.json("POST", `/v1/channels/${enc(channel)}/releases`, release);
  }

  listReleases(channel: string): Promise<api.Release[]> {
    return this.json("GET", `/v1/channels/${enc(channel)}/releases`);
  }

  promote(channel: string, body: api.Promote): Promise<api.ChannelStatus> {
    return this.json("POST", `/v1/channels/${enc(channel)}/promote`, body);
  }

  rollback(channel: string, body: api.ChannelRollback): Promise<api.ChannelStatus> {
    return this.json("POST", `/v1/channels/${enc(channel)}/rollback`, body);
  }

  /** Give the rollout's release to everyone without waiting for its canaries (`channel continue`). */
  continueRollout(channel: string): Promise<api.ChannelStatus> {
    return this.json("POST", `/v1/channels/${enc(channel)}/continue`);
  }

  pause(channel: string): Promise<api.ChannelStatus> {
    return this.json("POST", `/v1/channels/${enc(channel)}/pause`, {});
  }

  resume(channel: string): Promise<api.ChannelStatus> {
    return this.json("POST", `/v1/channels/${enc(channel)}/resume`, {});
  }

  channelStatus(channel: string): Promise<api.ChannelStatus> {
    return this.json("GET", `/v1/channels/${enc(channel)}/status`);
  }

  /** The host schema the directory checks descriptions against (roles, components, settings). */
  schema(): Promise<HostSchemaDescription> {
    return this.json("GET", "/v1/schema");
  }

  // --- viewer tokens (read-only: the dashboard, GET on /v1) ---

  createViewerToken(name?: string): Promise<ViewerTokenCreated> {
    return this.json("POST", "/v1/tokens", { viewer: true, ...(name ? { name } : {}) });
  }

  listTokens(): Promise<{ id: string; name: string; role: "viewer"; createdAt: string }[]> {
    return this.json("GET", "/v1/tokens");
  }

  async removeToken(idOrName: string): Promise<void> {
    await this.send("DELETE", `/v1/tokens/${enc(idOrName)}`);
  }

  // --- migration assessment (legacy hosts: not directory hosts) ---

  /** Keeps the inventory as the latest of its legacy host (`migrate inventory --upload`). */
  putInventory(inventory: Inventory): Promise<api.MigrateInventoryBrief> {
    return this.json("PUT", `/v1/migrate/inventories/${enc(inventory.host)}`, inventory);
  }

  listInventories(): Promise<api.MigrateInventoryBrief[]> {
    return this.json("GET", "/v1/migrate/inventories");
  }

  /** The fleet report over every legacy host's latest inventory (`migrate report --directory`). */
  migrateReport(): Promise<FleetReport> {
    return this.json("GET", "/v1/migrate/report");
  }
}

const enc = encodeURIComponent;
