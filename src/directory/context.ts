import type { ConfigCache } from "./config.js";
import type { DirectoryMetrics } from "./metrics.js";
import type { RetentionPolicy, Storage } from "./storage.js";

/** What every route file gets from `buildDirectory`. */
export interface DirectoryContext {
  storage: Storage;
  cache: ConfigCache;
  metrics: DirectoryMetrics;
  retention: RetentionPolicy;
  /** Prune a host's reports on every N-th report it sends (the first one after start included). */
  pruneEvery: number;
  now(): Date;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** No token needed (health, metrics). */
    public?: boolean;
    /** A host token may call this route for its own `:name`. */
    hostAccess?: boolean;
  }
}
