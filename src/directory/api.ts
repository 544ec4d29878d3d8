import { z } from "zod";
import { inventorySchema } from "../migrate/schema.js";
import { checkHostSettings, checkRoleDefaults, checkRoles, checkSettings } from "../schema/host.js";
import type { Issue } from "../schema/issue.js";
import { checkParameters, LEGACY_NAME_PATTERN, LEGACY_NAME_RULE, NAME_PATTERN, NAME_RULE } from "../schema/names.js";
import { checkWindow } from "../schema/window.js";

/**
 * The directory's HTTP contract (`/v1`), one schema per body: the server validates requests
 * with them, and the admin CLI and the agent use the inferred types. Field names are the
 * wire format; tools outside this repository rely on them.
 *
 * @example HostCreate.parse({ name: "web1", resourceGroup: "acme", roles: ["webgateway"] })
 */

/** zod issues from a host-schema check (src/schema/), so a 400 names the field and what is allowed there. */
const checked =
  <T>(check: (value: T) => Issue[]) =>
  (value: T, ctx: z.RefinementCtx) => {
    for (const issue of check(value)) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  };

const name = z.string().regex(NAME_PATTERN, NAME_RULE);
const settingValue = z.union([z.number(), z.string(), z.boolean()]);
const settingsShape = z.record(z.string(), z.record(z.string(), settingValue));
/** settings.<component>.<setting> = value, each checked against its component's settings. */
export const Settings = settingsShape.superRefine(checked((s) => checkSettings(s)));
const Roles = z.array(z.string()).superRefine(checked(checkRoles));
const Parameters = z.record(z.string(), z.string()).superRefine(checked(checkParameters));
/** A weekly window in the host's time zone, e.g. `Sun 02:00-04:00` (days: Mon..Sun, or `daily`). */
export const MaintenanceWindow = z
  .object({ schedule: z.string(), timezone: z.string().min(1).default("UTC") })
  .superRefine(checked(checkWindow));

export const ResourceGroupCreate = z.object({ name, description: z.string().max(500).optional() });
export const ResourceGroup = ResourceGroupCreate.extend({ createdAt: z.string() });

const HostFields = z.object({
  name,
  resourceGroup: name,
  roles: Roles.default([]),
  parameters: Parameters.default({}),
  settings: Settings.default({}),
  channel: name.optional(),
  maintenanceWindow: MaintenanceWindow.optional(),
});
/** A new host: each field checked by the host schema, and its settings only for components its roles enable. */
export const HostCreate = HostFields.superRefine(checked(checkHostSettings));
export const HostUpdate = HostFields.omit({ name: true }).partial();
/**
 * What `PATCH /v1/hosts/:name` accepts: the fields of {@link HostUpdate}, without defaults (a
 * field left out is left alone), and `null` to remove the channel or the maintenance window.
 */
export const HostPatch = z.object({
  resourceGroup: name.optional(),
  roles: Roles.optional(),
  parameters: Parameters.optional(),
  settings: Settings.optional(),
  channel: name.nullable().optional(),
  maintenanceWindow: MaintenanceWindow.nullable().optional(),
});
export const Host = HostFields.extend({
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** `GET /v1/hosts`: each host with the result and time of its last report (null before the first). */
export const HostListItem = Host.extend({ lastResult: z.string().nullable(), lastReportAt: z.string().nullable() });
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
  defaults: z.record(z.string(), settingsShape).superRefine(checked(checkRoleDefaults)).default({}),
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
      /** Canaries that applied all of the release. */
      succeeded: z.array(z.string()),
      failed: z.array(z.object({ host: z.string(), error: z.string() })),
      /**
       * Canaries whose restart waits for their maintenance window (`waiting for window`): the
       * rollout waits for them. `window` is theirs (null: none, the restart waits for --force);
       * `nextWindow` when it next opens (ISO time; null without a window).
       */
      waiting: z.array(z.object({ host: z.string(), window: z.string().nullable(), nextWindow: z.string().nullable() })),
      startedAt: z.string(),
      /** Set when an admin moved the rollout on without its canaries (`channel continue`). */
      forcedAt: z.string().optional(),
      /** While an admin paused the rollout (state halted). */
      paused: z.object({ by: z.string(), at: z.string() }).optional(),
    })
    .nullable(),
  /**
   * `release`: what the host runs (its last report that applied a release); `failed`: the
   * release its last report failed (null unless its last report failed); `target`: what the
   * directory gives it now.
   */
  hosts: z.array(z.object({ name: z.string(), release: z.number().nullable(), failed: z.number().nullable(), lastResult: z.string().nullable(), target: z.number().nullable() })),
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

// Each field of a report is bounded; the route's body limit (256 KiB) bounds the whole.
export const PlanEntry = z.object({ service: z.string().max(100), action: z.enum(["start", "stop", "restart", "swap", "reload", "runtime", "none"]), why: z.array(z.string().max(4000)).max(1000) });
export const ReportResult = z.enum(["switched", "unchanged", "deferred", "failed", "timeout", "stale"]);
export const Report = z.object({
  generation: z.string().nullable(),
  release: z.object({ channel: z.string(), number: z.number() }).nullable(),
  result: ReportResult,
  plan: z.array(PlanEntry).max(1000).default([]),
  /** Restarts waiting for the maintenance window. */
  deferred: z.array(PlanEntry).max(1000).default([]),
  durations: z.record(z.string().max(100), z.number()).default({}),
  services: z.array(z.object({ name: z.string().max(100), state: z.string().max(100), pid: z.number().nullable() })).max(1000).default([]),
  error: z.string().max(4000).optional(),
  warnings: z.array(z.string().max(1000)).max(100).default([]),
  /** vulnscan counts for the active generation, when the agent ran it: total = open (not whitelisted) CVE findings. */
  vulnerabilities: z
    .object({
      total: z.number().int(),
      whitelisted: z.number().int(),
      /**
       * The open findings themselves, sent when the agent found them anew (agents since the
       * dashboard): the directory keeps each host's last list for its CVE views, not in the report.
       */
      findings: z.array(z.object({ cve: z.string().min(1).max(40), score: z.number().min(0).max(10).nullable().optional(), package: z.string().min(1).max(200) })).max(1000).optional(),
    })
    .optional(),
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
export const LegacyHostName = z.string().regex(LEGACY_NAME_PATTERN, LEGACY_NAME_RULE);
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
export type HostListItem = z.infer<typeof HostListItem>;
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
