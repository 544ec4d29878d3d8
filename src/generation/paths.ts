import path from "node:path";

/** Writable runtime directory of a service (pid file, temp files): divergent by nature. */
export const runtimeDir = (stateDir: string, service: string) => path.join(stateDir, "run", service);

/**
 * The stable link a running service reads its configuration through; activation points it
 * at the component's store path of the generation being activated.
 */
export const configLink = (stateDir: string, service: string) => path.join(stateDir, "services", service, "current");
