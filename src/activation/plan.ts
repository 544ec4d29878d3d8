import type { ChangeClass, RecordedSetting } from "../components/component.js";
import { component } from "../components/registry.js";
import { readComponent, type ComponentMeta } from "../generation/metadata.js";
import type { ServiceManager, ServiceStatus } from "../services/manager.js";

/** `swap`: a new binary at the same path replaces the running one without dropping connections (the definition's binarySwap signals). */
export type Action = "start" | "stop" | "restart" | "swap" | "reload" | "runtime" | "none";

/** One service's part of a plan, with the reasons, e.g. `worker_processes: 1 → 2 (reload)`. */
export interface PlanEntry {
  service: string;
  action: Action;
  why: string[];
  /** Store path of the component in the target generation (absent for stop). */
  to?: string;
  from?: string;
}

// Strongest first: a change set that mixes classes costs the strongest one, once.
const STRENGTH: ChangeClass[] = ["restart", "reload", "runtime", "none"];
const strongest = (classes: ChangeClass[]): ChangeClass => STRENGTH.find((c) => classes.includes(c)) ?? "none";

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const shown = (s: RecordedSetting | undefined, other: RecordedSetting | undefined) =>
  s ? show(s.value) : other?.default !== undefined ? `${show(other.default)} (default)` : "(default)";

/**
 * Compare one component between two generations, the way switch-to-configuration compares
 * units: a new program or service definition restarts; otherwise each changed setting or
 * input says what it needs, and the strongest need wins.
 */
export function diffComponent(from: ComponentMeta, to: ComponentMeta): { action: ChangeClass; why: string[] } {
  const why: string[] = [];
  const quiet: string[] = [];
  const classes: ChangeClass[] = [];
  if (from.program.sha256 !== to.program.sha256 || from.program.path !== to.program.path) {
    why.push(`program: ${from.program.path} ${from.program.version} (${from.program.sha256.slice(0, 12)}) → ${to.program.path} ${to.program.version} (${to.program.sha256.slice(0, 12)}) (restart)`);
    classes.push("restart");
  }
  const fields = new Set([...Object.keys(from.service), ...Object.keys(to.service)]) as Set<keyof typeof to.service>;
  const changedFields = [...fields].filter((f) => JSON.stringify(from.service[f]) !== JSON.stringify(to.service[f]));
  if (changedFields.length > 0) {
    why.push(`service definition: ${changedFields.join(", ")} changed (restart)`);
    classes.push("restart");
  }
  for (const key of new Set([...Object.keys(from.settings), ...Object.keys(to.settings)])) {
    const a = from.settings[key];
    const b = to.settings[key];
    if (a && b && a.value === b.value) continue;
    const change = b?.change ?? a!.change;
    why.push(`${key}: ${shown(a, b)} → ${shown(b, a)} (${change})`);
    classes.push(change);
  }
  for (const key of new Set([...Object.keys(from.inputs), ...Object.keys(to.inputs)])) {
    const a = from.inputs[key];
    const b = to.inputs[key];
    if (a && b && a.hash === b.hash) continue;
    const change = b?.change ?? a!.change;
    const line = `${(b ?? a)!.label} ${!a ? "added" : !b ? "removed" : "changed"} (${change})`;
    // A file whose effect the settings above already name (class none) is only worth a line alone.
    if (change === "none") quiet.push(line);
    else why.push(line);
    classes.push(change);
  }
  if (why.length === 0) why.push(...quiet);
  return { action: strongest(classes), why };
}

/** What a plan asks of the service manager: whether it can follow a binary swap. */
export type SwapSupport = Pick<ServiceManager, "binarySwapUnsupported">;

/**
 * A restart that only a new binary at the same path needs becomes a swap where the service can
 * replace its binary live and the manager follows it; otherwise `why` says why it restarts.
 */
function swapInstead(from: ComponentMeta, to: ComponentMeta, why: string[], manager: SwapSupport | undefined): "restart" | "swap" {
  const newBinaryOnly = from.program.path === to.program.path && from.program.sha256 !== to.program.sha256 && diffComponent({ ...from, program: to.program }, to).action !== "restart";
  if (!newBinaryOnly || !to.service.binarySwap) return "restart";
  const unsupported = manager ? manager.binarySwapUnsupported(to.service) : "no service manager to ask";
  if (unsupported !== undefined) {
    why.push(`no binary swap: ${unsupported}`);
    return "restart";
  }
  const i = why.findIndex((w) => w.startsWith("program: "));
  if (i >= 0) why[i] = why[i]!.replace(/\(restart\)$/, `(swap: ${to.service.binarySwap.start} → ${to.service.binarySwap.drain} → ${to.service.binarySwap.stop}, no connection dropped)`);
  return "swap";
}

/**
 * The plan from what runs now (`before`: service → the component store path it was started
 * with) to a generation's components (`after`): one entry per service. `statuses` lets a
 * service that should run but does not be started again.
 *
 * @example makePlan(running, readSystem(next).components, statuses)
 *   // [{ service: "nginx", action: "reload", why: ["snippet shop.conf changed (reload)"] }]
 */
export function makePlan(before: Record<string, string>, after: Record<string, string>, statuses: Map<string, ServiceStatus>, manager?: SwapSupport): PlanEntry[] {
  const plan: PlanEntry[] = [];
  for (const [service, from] of Object.entries(before)) {
    if (!(service in after)) plan.push({ service, action: "stop", why: ["no longer enabled by the host's roles"], from });
  }
  for (const [service, to] of Object.entries(after)) {
    const from = before[service];
    const running = statuses.get(service)?.state === "running";
    if (!from) {
      plan.push({ service, action: "start", why: ["newly enabled by the host's roles"], to });
      continue;
    }
    if (!running) {
      plan.push({ service, action: "start", why: [`not running (${statuses.get(service)?.state ?? "unknown"})`], from, to });
      continue;
    }
    if (from === to) {
      plan.push({ service, action: "none", why: [], from, to });
      continue;
    }
    const next = readComponent(to);
    const diff = diffComponent(readComponent(from), next);
    if (diff.why.length === 0) {
      // The rendered files differ in a way no setting or input explains (e.g. a distribution
      // file such as mime.types): a reload re-reads them all, where the service has one.
      diff.action = next.service.reloadSignal ? "reload" : "restart";
      diff.why.push(`rendered configuration changed (${diff.action})`);
    }
    const hooks = component(service);
    if (diff.action === "runtime" && !hooks?.applyRuntime && !hooks?.ensure) {
      // Nothing can apply it to the live process: fall back to what re-reads the files.
      diff.action = next.service.reloadSignal ? "reload" : "restart";
      diff.why.push(`no runtime interface (${diff.action})`);
    }
    const action: Action = diff.action === "restart" ? swapInstead(readComponent(from), next, diff.why, manager) : diff.action;
    if (action === "restart" && hooks?.restartLoses) diff.why.push(`a restart: ${hooks.restartLoses}`);
    plan.push({ service, action, why: diff.why, from, to });
  }
  return plan;
}
