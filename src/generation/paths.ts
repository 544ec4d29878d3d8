import path from "node:path";

/** Writable runtime directory of a service (pid file, temp files): divergent by nature. */
export const runtimeDir = (stateDir: string, service: string) => path.join(stateDir, "run", service);

/**
 * The stable link a running service reads its configuration through; activation points it
 * at the component's store path of the generation being activated.
 */
export const configLink = (stateDir: string, service: string) => path.join(stateDir, "services", service, "current");

/** Log files a service writes itself (e.g. nginx's access log); the supervisor's log is beside them. */
export const logDir = (stateDir: string, service: string) => path.join(stateDir, "log", service);
