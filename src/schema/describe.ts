import type { SettingSpec } from "../components/component.js";
import { components, roles } from "../components/registry.js";
import { NAME_MAX, NAME_PATTERN, NAME_RULE } from "./names.js";
import { SCHEDULE_PATTERN, SCHEDULE_RULE } from "./window.js";

/** One setting as the schema knows it: its spec, without the check function, and its name. */
export type SettingDescription = Omit<SettingSpec, "check"> & { name: string };

/**
 * The host schema as data: what `congruent host schema --json` prints and `GET /v1/schema`
 * serves, for people and for tools that build forms (the dashboard) or check descriptions
 * before sending them. Regular expressions are given as their source text.
 *
 * @example describeHostSchema().roles.find((r) => r.name === "webgateway") // { name: "webgateway", components: ["nginx"] }
 */
export function describeHostSchema() {
  return {
    name: { pattern: NAME_PATTERN.source, maxLength: NAME_MAX, rule: NAME_RULE },
    roles: [...roles].map(([name, enables]) => ({ name, components: [...enables] })),
    components: [...components.values()].map((c) => ({
      name: c.name,
      description: c.description,
      /** Settings beyond these are accepted and checked by the build against the program itself. */
      openSettings: c.openSettings ?? false,
      settings: Object.entries(c.settings).map(([name, s]): SettingDescription => {
        const d: SettingDescription = { name, type: s.type, default: s.default, description: s.description, change: s.change };
        if (s.min !== undefined) d.min = s.min;
        if (s.max !== undefined) d.max = s.max;
        if (s.values) d.values = s.values;
        return d;
      }),
    })),
    maintenanceWindow: { schedule: { pattern: SCHEDULE_PATTERN.source, rule: SCHEDULE_RULE }, timezone: "an IANA time zone (e.g. Europe/Berlin, UTC), default UTC" },
  };
}

export type HostSchemaDescription = ReturnType<typeof describeHostSchema>;
