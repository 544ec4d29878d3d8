import { createHash } from "node:crypto";
import type { HostConfig, Release } from "./api.js";
import type { ChannelRecord, Storage } from "./storage.js";
import { effectiveRelease } from "./rollout.js";

type Settings = HostConfig["host"]["settings"];

/** Keys sorted at every level, so one description always renders to the same bytes (and ETag). */
function sorted<T>(value: T): T {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])])) as T;
}

/**
 * The release's defaults for each of the host's roles (in role order), overlaid by the host's
 * own settings; merged per component, setting by setting.
 *
 * @example mergeSettings({ web: { nginx: { a: 1, b: 2 } } }, ["web"], { nginx: { b: 3 } }) // { nginx: { a: 1, b: 3 } }
 */
export function mergeSettings(defaults: Release["defaults"] | undefined, roles: string[], own: Settings): Settings {
  const out: Settings = {};
  const overlay = (layer: Settings | undefined) => {
    for (const [component, values] of Object.entries(layer ?? {})) out[component] = { ...out[component], ...values };
  };
  for (const role of roles) overlay(defaults?.[role]);
  overlay(own);
  return out;
}

export interface RenderedConfig {
  body: string;
  /** Strong ETag: a hash of exactly `body`. */
  etag: string;
}

/** `GET /v1/hosts/:name/config`'s body for one host; null when there is no such host. */
export async function renderConfig(storage: Storage, hostName: string): Promise<RenderedConfig | null> {
  const host = await storage.getHost(hostName);
  if (!host) return null;
  const channel: ChannelRecord | null = host.channel ? await storage.getChannel(host.channel) : null;
  const number = channel ? effectiveRelease(channel, host.name) : null;
  const release = channel && number !== null ? await storage.getRelease(channel.name, number) : null;
  const config: HostConfig = {
    host: { name: host.name, roles: host.roles, parameters: sorted(host.parameters), settings: sorted(mergeSettings(release?.defaults, host.roles, host.settings)) },
    maintenanceWindow: host.maintenanceWindow ?? null,
    release: release ? { channel: release.channel, number: release.number, version: release.version } : null,
    rolledBack: channel?.rolledBack ?? false,
  };
  const body = JSON.stringify(config);
  return { body, etag: `"${createHash("sha256").update(body).digest("base64url")}"` };
}

/** Does an If-None-Match header match `etag`? (Weak comparison, as RFC 9110 says for it.) */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/**
 * Rendered configs per host. Any write that can change a host's config invalidates: one host
 * (host update) or all (channel promote, rollback, rollout state, release). A render that
 * raced with an invalidation is not stored (generation check). `ttlMs` bounds staleness when
 * several directory processes share one database (PostgreSQL), since they do not tell each
 * other about writes.
 */
export class ConfigCache {
  private entries = new Map<string, RenderedConfig & { at: number }>();
  private generation = 0;

  constructor(private readonly ttlMs = Infinity) {}

  async get(hostName: string, render: () => Promise<RenderedConfig | null>): Promise<RenderedConfig | null> {
    const hit = this.entries.get(hostName);
    if (hit && (this.ttlMs === Infinity || Date.now() - hit.at < this.ttlMs)) return hit;
    const generation = this.generation;
    const fresh = await render();
    if (fresh && generation === this.generation) this.entries.set(hostName, { ...fresh, at: Date.now() });
    return fresh;
  }

  invalidateHost(hostName: string): void {
    this.generation++;
    this.entries.delete(hostName);
  }

  invalidateAll(): void {
    this.generation++;
    this.entries.clear();
  }
}
