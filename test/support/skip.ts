import { describe, it } from "vitest";

/**
 * `describe` that is skipped when `reason` is set, and then says why in its title, so a skip is
 * never silent in the test output: "… (skipped: nix-store is not installed)".
 *
 * @example describeUnless(hasNix ? undefined : "nix-store is not installed")("nix engine", () => { … })
 */
export function describeUnless(reason: string | undefined): (title: string, body: () => void) => void {
  return (title, body) => (reason === undefined ? describe(title, body) : describe.skip(`${title} (skipped: ${reason})`, body));
}

/** `it` that is skipped when `reason` is set, saying why in its title (see describeUnless). */
export function itUnless(reason: string | undefined): (title: string, body: () => Promise<void> | void, timeout?: number) => void {
  return (title, body, timeout) => (reason === undefined ? it(title, body, timeout) : it.skip(`${title} (skipped: ${reason})`, body));
}
