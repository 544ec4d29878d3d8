/**
 * Kill -9 this process at a named point of an activation when `$CONGRUENT_FAULT_KILL_AT` names
 * it: how the fault-injection tests stop a run exactly between two writes. Points:
 * `after-journal` (plan written, generation link not yet), `after-link`, `after-step-N` (step N,
 * from 1, crossed off), `after-flip` (profile flipped, journal not yet cleared). One
 * environment lookup when unset.
 *
 * @example CONGRUENT_FAULT_KILL_AT=after-step-2 congruent switch --host host.json
 */
export function faultPoint(name: string): void {
  if (process.env.CONGRUENT_FAULT_KILL_AT === name) process.kill(process.pid, "SIGKILL");
}
