import { readFileSync, rmSync } from "node:fs";
import { writeFileAtomic } from "../store/atomic.js";
import path from "node:path";
import type { PlanEntry } from "./plan.js";

/**
 * An activation written down before it runs, each step crossed off as it completes, so a run
 * that was killed is finished by the next one: a host ends on a complete generation.
 */
export interface Journal {
  /** Generation being activated, and what the profile must point at once all steps are done. */
  target: string;
  /** The generation that was active before; where a failed or rolled-back activation returns. */
  previous: string | null;
  /** Profile generation number to make current at the end. */
  generationNumber: number;
  /**
   * This activation makes the generation link `generationNumber` itself (after writing the
   * journal): a resumed run makes it if a kill came first, a reverted one removes it again.
   */
  addsGeneration?: boolean;
  steps: (PlanEntry & { done: boolean })[];
}

const file = (stateDir: string) => path.join(stateDir, "activation", "pending.json");

export function writeJournal(stateDir: string, journal: Journal): void {
  writeFileAtomic(file(stateDir), JSON.stringify(journal, null, 2));
}

export function readJournal(stateDir: string): Journal | null {
  try {
    return JSON.parse(readFileSync(file(stateDir), "utf8")) as Journal;
  } catch {
    return null;
  }
}

export function clearJournal(stateDir: string): void {
  rmSync(file(stateDir), { force: true });
}
