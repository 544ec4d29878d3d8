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

/** Divergent data of a service (database files, dumps): created by the component, never removed by a switch, rollback or gc. */
export const dataDir = (stateDir: string, service: string) => path.join(stateDir, "data", service);

/** Secrets (passwords, keys) kept out of the world-readable store: mode 0700, files 0600. */
export const secretsDir = (stateDir: string) => path.join(stateDir, "secrets");
