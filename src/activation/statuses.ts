import type { ServiceManager, ServiceStatus } from "../services/manager.js";

/**
 * The supervisor's view of `names`: a service it does not have is stopped. When a status
 * cannot be read, `tolerant` leaves the name out (callers treat it as unknown) instead of
 * failing.
 *
 * @example await serviceStatuses(manager, ["nginx"], true) // Map { "nginx" => { state: "running", pid: 1234 } }
 */
export async function serviceStatuses(manager: ServiceManager, names: string[], tolerant: boolean): Promise<Map<string, ServiceStatus>> {
  const out = new Map<string, ServiceStatus>();
  const installed = new Set(await manager.list().catch(() => [] as string[]));
  for (const name of names) {
    if (!installed.has(name)) {
      out.set(name, { name, state: "stopped", pid: null });
      continue;
    }
    try {
      out.set(name, await manager.status(name));
    } catch (error) {
      if (!tolerant) throw error;
    }
  }
  return out;
}
