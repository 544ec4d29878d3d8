import { z } from "zod";
import { inventorySchema } from "../migrate/schema.js";

/**
 * The directory's HTTP contract (`/v1`), one schema per body: the server validates requests
 * with them, and the admin CLI and the agent use the inferred types. Field names are the
 * wire format; tools outside this repository rely on them.
 *
 * @example HostCreate.parse({ name: "web1", resourceGroup: "acme", roles: ["webgateway"] })
 */

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "lower-case letters, digits and '-', at most 63");
const settingValue = z.union([z.number(), z.string(), z.boolean()]);
/** settings.<component>.<setting> = value */
export const Settings = z.record(z.string(), z.record(z.string(), settingValue));
/** A weekly window in the host's time zone, e.g. `Sun 02:00-04:00` (days: Mon..Sun, or `daily`). */
export const MaintenanceWindow = z.object({
  schedule: z.string().regex(/^(daily|(Mon|Tue|Wed|Thu|Fri|Sat|Sun)(,(Mon|Tue|Wed|Thu|Fri|Sat|Sun))*) ([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/, "like 'Sun 02:00-04:00' or 'daily 01:00-02:00'"),
  timezone: z.string().min(1).default("UTC"),
});

export const ResourceGroupCreate = z.object({ name, description: z.string().max(500).optional() });
export const ResourceGroup = ResourceGroupCreate.extend({ createdAt: z.string() });

export const HostCreate = z.object({
  name,
  resourceGroup: name,
  roles: z.array(z.string().min(1)).default([]),
  parameters: z.record(z.string(), z.string()).default({}),
  settings: Settings.default({}),
  channel: name.optional(),
  maintenanceWindow: MaintenanceWindow.optional(),
});
export const HostUpdate = HostCreate.omit({ name: true }).partial();
/**
 * What `PATCH /v1/hosts/:name` accepts: the fields of {@link HostUpdate}, without defaults (a
 * field left out is left alone), and `null` to remove the channel or the maintenance window.
 */
export const HostPatch = z.object({
  resourceGroup: name.optional(),
  roles: z.array(z.string().min(1)).optional(),
  parameters: z.record(z.string(), z.string()).optional(),
  settings: Settings.optional(),
  channel: name.nullable().optional(),
  maintenanceWindow: MaintenanceWindow.nullable().optional(),
});
export const Host = HostCreate.extend({
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** Returned once, at creation or rotation: the only time the token is visible. */
export const HostCreated = z.object({ host: Host, token: z.string() });

export const ChannelCreate = z.object({ name, canaryShare: z.number().int().min(1).max(100).default(10), description: z.string().max(500).optional() });
/** A channel as the directory shows it: where its releases stand. */
export const Channel = ChannelCreate.extend({
  createdAt: z.string(),
  current: z.number().nullable(),
  previous: z.number().nullable(),
  rolledBack: z.boolean(),
  rolloutState: z.enum(["canary", "complete", "halted"]).nullable(),
});
/** Platform-wide defaults per role: defaults.<role>.<component>.<setting> = value. */
export const ReleaseCreate = z.object({
  version: z.string().min(1).max(100),
  defaults: z.record(z.string(), Settings).default({}),
});
export const Release = ReleaseCreate.extend({ channel: name, number: z.number().int().positive(), createdAt: z.string() });
export const Promote = z.object({ number: z.number().int().positive(), canaryShare: z.number().int().min(1).max(100).optional() });
/** An admin's deliberate move of a channel to an older release; agents accept it. */
export const ChannelRollback = z.object({ number: z.number().int().positive() });

export const RolloutState = z.enum(["canary", "complete", "halted"]);
export const ChannelStatus = z.object({
  channel: name,
  canaryShare: z.number(),
  current: z.number().nullable(),
  previous: z.number().nullable(),
  rollout: z
    .object({
      release: z.number(),
      state: RolloutState,
      canaryHosts: z.array(z.string()),
      succeeded: z.array(z.string()),
      failed: z.array(z.object({ host: z.string(), error: z.string() })),
      startedAt: z.string(),
    })
    .nullable(),
  /** `release`: what the host last reported running; `target`: what the directory gives it now. */
  hosts: z.array(z.object({ name: z.string(), release: z.number().nullable(), lastResult: z.string().nullable(), target: z.number().nullable() })),
});

/** What an agent polls (`GET /v1/hosts/:name/config`, with ETag). */
export const HostConfig = z.object({
  host: z.object({
    name,
    roles: z.array(z.string()),
    parameters: z.record(z.string(), z.string()),
    /** Release defaults for the host's roles, overlaid by the host's own settings. */
    settings: Settings,
  }),
  maintenanceWindow: MaintenanceWindow.nullable(),
  release: z.object({ channel: name, number: z.number(), version: z.string() }).nullable(),
  /** True when an admin rolled the channel back on purpose: an older release is then accepted. */
  rolledBack: z.boolean(),
});

export const PlanEntry = z.object({ service: z.string(), action: z.enum(["start", "stop", "restart", "swap", "reload", "runtime", "none"]), why: z.array(z.string()) });
export const ReportResult = z.enum(["switched", "unchanged", "deferred", "failed", "timeout", "stale"]);
export const Report = z.object({
  generation: z.string().nullable(),
  release: z.object({ channel: z.string(), number: z.number() }).nullable(),
  result: ReportResult,
  plan: z.array(PlanEntry).max(1000).default([]),
  /** Restarts waiting for the maintenance window. */
  deferred: z.array(PlanEntry).max(1000).default([]),
  durations: z.record(z.string(), z.number()).default({}),
  services: z.array(z.object({ name: z.string(), state: z.string(), pid: z.number().nullable() })).max(1000).default([]),
  error: z.string().max(4000).optional(),
  warnings: z.array(z.string().max(1000)).max(100).default([]),
  /** vulnscan counts for the active generation, when the agent ran it: total = open (not whitelisted) CVE findings. */
  vulnerabilities: z.object({ total: z.number().int(), whitelisted: z.number().int() }).optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export const StoredReport = Report.extend({ id: z.number(), host: z.string(), receivedAt: z.string() });
/** `GET /v1/hosts/:name`: the host, its latest report and what waits for its window. */
export const HostDetail = z.object({ host: Host, lastReport: StoredReport.nullable(), pending: z.array(PlanEntry) });

/**
 * A legacy host's name as `migrate inventory` found it: not a directory host (it is not managed
 * yet), so not held to {@link name}'s rules, only to what is safe in a URL path and a table key.
 */
export const LegacyHostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, "letters, digits, '.', '_' and '-', at most 253");
/** `PUT /v1/migrate/inventories/:host`: an inventory as `migrate inventory --json` prints it (the schema `migrate plan`/`report` read). */
export const MigrateInventory = inventorySchema;
/** `GET /v1/migrate/inventories`: one entry per legacy host, its latest inventory in brief. */
export const MigrateInventoryBrief = z.object({
  host: z.string(),
  receivedAt: z.string(),
  summary: z.object({ items: z.number(), congruent: z.number(), convergent: z.number(), divergent: z.number(), dataBytes: z.number(), blockers: z.number(), ready: z.boolean() }),
});
/** `GET /v1/migrate/report?format=json|html`. */
export const MigrateReportQuery = z.object({ format: z.enum(["json", "html"]).default("json") });

export type HostCreate = z.infer<typeof HostCreate>;
export type HostUpdate = z.infer<typeof HostUpdate>;
export type HostPatch = z.input<typeof HostPatch>;
export type Channel = z.infer<typeof Channel>;
export type ResourceGroupCreate = z.input<typeof ResourceGroupCreate>;
export type Promote = z.infer<typeof Promote>;
export type ChannelRollback = z.infer<typeof ChannelRollback>;
export type Host = z.infer<typeof Host>;
export type HostCreated = z.infer<typeof HostCreated>;
export type HostDetail = z.infer<typeof HostDetail>;
export type ResourceGroup = z.infer<typeof ResourceGroup>;
export type ChannelCreate = z.infer<typeof ChannelCreate>;
export type ReleaseCreate = z.infer<typeof ReleaseCreate>;
export type Release = z.infer<typeof Release>;
export type ChannelStatus = z.infer<typeof ChannelStatus>;
export type HostConfig = z.infer<typeof HostConfig>;
export type Report = z.infer<typeof Report>;
export type StoredReport = z.infer<typeof StoredReport>;
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;
export type MigrateInventoryBrief = z.infer<typeof MigrateInventoryBrief>;
