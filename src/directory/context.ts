import type { EventEmitter } from "node:events";
import type { ConfigCache } from "./config.js";
import type { DirectoryMetrics } from "./metrics.js";
import type { RateLimiter } from "./rate-limit.js";
import type { RetentionPolicy, Storage } from "./storage.js";

/** What every route file gets from `buildDirectory`. */
export interface DirectoryContext {
  storage: Storage;
  cache: ConfigCache;
  metrics: DirectoryMetrics;
  /** Applied to a host's reports with every report it sends. */
  retention: RetentionPolicy;
  /** How fast each host may send reports (429 beyond). */
  reportLimiter: RateLimiter;
  now(): Date;
  /** `report` (a StoredReport) after each stored report: the dashboard's live updates listen. */
  events: EventEmitter;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** No token needed (health, metrics). */
    public?: boolean;
    /** A host token may call this route for its own `:name`. */
    hostAccess?: boolean;
  }
}
