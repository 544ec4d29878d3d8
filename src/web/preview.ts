import type { ChangeClass } from "../components/component.js";
import { components, roles as roleComponents } from "../components/registry.js";
import type { Host, Release } from "../directory/api.js";
import { mergeSettings } from "../directory/config.js";

type Value = number | string | boolean;
/** `unknown`: a setting the component takes without a spec (a PostgreSQL parameter): the host's own program classifies it. */
export type PreviewClass = ChangeClass | "unknown";

export interface SettingDelta {
  component: string;
  setting: string;
  from: Value | undefined;
  to: Value | undefined;
  change: PreviewClass;
}

export interface ReleasePreview {
  /** Per role of the release (either side): what its defaults change, and the programs it enables. */
  roles: { role: string; programs: string[]; changes: SettingDelta[] }[];
  /** Per host of the channel: the changes it would really see (its own settings win) and what they cost. */
  hosts: { host: string; changes: SettingDelta[]; action: PreviewClass }[];
}

// Costliest first: a host's action is the costliest of its changes ("unknown" counts as a possible restart).
const COST: PreviewClass[] = ["restart", "unknown", "reload", "runtime", "none"];
export const costliest = (classes: PreviewClass[]): PreviewClass => COST.find((c) => classes.includes(c)) ?? "none";

/** What changing `component.setting` needs, from the component's own declaration. */
export function changeClassOf(component: string, setting: string): PreviewClass {
  return components.get(component)?.settings[setting]?.change ?? "unknown";
}

function deltas(a: Record<string, Record<string, Value>>, b: Record<string, Record<string, Value>>): SettingDelta[] {
  const out: SettingDelta[] = [];
  for (const component of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const x = a[component] ?? {};
    const y = b[component] ?? {};
    for (const setting of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      if (x[setting] === y[setting]) continue;
      out.push({ component, setting, from: x[setting], to: y[setting], change: changeClassOf(component, setting) });
    }
  }
  return out;
}

/**
 * Before promoting `to` over `from` (the channel's current release, or none): what it changes
 * per role, and per host — the host's settings overlaid as the directory serves them
 * (mergeSettings), so a host that sets a value itself sees no change there.
 *
 * @example previewRelease(r2, r3, channelHosts).hosts[0] // { host: "db1", changes: [{ setting: "shared_buffers", change: "restart", … }], action: "restart" }
 */
export function previewRelease(from: Release | null, to: Release, hosts: Host[]): ReleasePreview {
  const roles = [...new Set([...Object.keys(from?.defaults ?? {}), ...Object.keys(to.defaults)])].sort();
  return {
    roles: roles.map((role) => ({ role, programs: [...(roleComponents.get(role) ?? [])], changes: deltas(from?.defaults[role] ?? {}, to.defaults[role] ?? {}) })),
    hosts: hosts.map((h) => {
      const changes = deltas(mergeSettings(from?.defaults, h.roles, h.settings), mergeSettings(to.defaults, h.roles, h.settings));
      return { host: h.name, changes, action: costliest(changes.map((c) => c.change)) };
    }),
  };
}
