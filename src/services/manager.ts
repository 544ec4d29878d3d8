/**
 * One interface over the real supervisors: s6 where systemd is not PID 1 (containers, CI,
 * this machine) and systemd on real hosts. Congruent never supervises processes itself.
 *
 * @example
 *   await manager.apply(def);          // write/refresh the service definition, bring it up
 *   await manager.reload("nginx");     // the definition's reload signal
 *   (await manager.status("nginx")).pid
 */
export interface ServiceDefinition {
  /** Service name, `[a-z0-9-]+`. */
  name: string;
  /** argv of the long-running process; it must stay in the foreground. */
  command: string[];
  /** Run as this user (the supervisor drops privileges); root when absent. */
  user?: string;
  environment?: Record<string, string>;
  workingDirectory?: string;
  /** Signal that makes the process re-read its configuration (e.g. "HUP"). */
  reloadSignal?: string;
  /** Signal for a graceful stop (default TERM). */
  stopSignal?: string;
  /**
   * Files a killed process leaves behind that would stop the next start (e.g. nginx's Unix
   * socket: a SIGKILLed master never unlinks it); removed before every start.
   */
  staleFiles?: string[];
  /**
   * Every place the service writes (its runtime, log and data directories). Given, a backend
   * that can confine a service makes the rest of the system read-only to it and hides /tmp and
   * the homes (systemd: ProtectSystem=strict with ReadWritePaths=, PrivateTmp=, ProtectHome=,
   * NoNewPrivileges=). Absent: no confinement.
   */
  writablePaths?: string[];
  /** The service reads files in home directories (web roots in homes): homes stay readable to it. */
  readsHomes?: boolean;
  /**
   * The same program run as its own daemon: `command` forks into the background and the main
   * process writes its PID to `pidFile`. For a supervisor that can follow a main process that
   * replaces itself (systemd: Type=forking, PIDFile=); `command` above stays the foreground form.
   */
  daemon?: { command: string[]; pidFile: string };
  /**
   * The program replaces itself by the file now at its path without dropping a connection:
   * `start` makes the old main process start the new binary beside it (which writes `daemon.pidFile`
   * and moves the old PID to `<pidFile>.oldbin`), `drain` retires the old workers, `stop` the old
   * main process (nginx: USR2, WINCH, QUIT). Needs `daemon`.
   */
  binarySwap?: { start: string; drain: string; stop: string };
}

export type ServiceState = "running" | "stopped" | "failed";

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  /** PID of the service's main process, when running. */
  pid: number | null;
  /** Seconds in the current state, when the supervisor knows. */
  uptime?: number;
}

export interface ServiceManager {
  readonly kind: "s6" | "systemd";
  /** Make sure the supervisor itself runs (idempotent). */
  ensureRunning(): Promise<void>;
  /**
   * Install or update a service definition and bring the service up. If the definition
   * changed while the service was running, the caller decides whether to restart it.
   */
  install(def: ServiceDefinition): Promise<void>;
  start(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  /** Send the definition's reload signal; the main PID stays. */
  reload(name: string): Promise<void>;
  /**
   * Why this manager cannot swap the binary of `def` in place (ServiceDefinition.binarySwap),
   * or undefined when it can; a plan restarts instead and says this reason.
   */
  binarySwapUnsupported(def: ServiceDefinition): string | undefined;
  /**
   * Replace the running program by the file now at its path, connections kept: the new main
   * process starts beside the old, `confirm` checks it serves once the old workers are retired
   * (when it throws, the old main process takes over again and the error is rethrown), then
   * the old main process goes. Only where binarySwapUnsupported(def) is undefined.
   */
  swapBinary(def: ServiceDefinition, confirm: () => Promise<void>): Promise<void>;
  /** Stop the service and remove its definition. */
  remove(name: string): Promise<void>;
  status(name: string): Promise<ServiceStatus>;
  /** The last `lines` lines the service wrote (stdout and stderr), oldest first, without timestamps. */
  recentLog(name: string, lines: number): Promise<string[]>;
  /** Names of every service this manager supervises for the state directory. */
  list(): Promise<string[]>;
  /** Stop every service and the supervisor itself. */
  down(): Promise<void>;
}
