import path from "node:path";
import { afterAll, beforeAll, it } from "vitest";
import { Box, boxUnavailable } from "./box.js";
import { BoxAgent } from "./box-agent.js";

/** The checkout, bound into every box (the built CLI, node_modules, fixtures). */
export const REPO = path.resolve(import.meta.dirname, "../..");

/**
 * One systemd box for the suite file that calls this (booted before its tests, stopped after),
 * with its agent. Without systemd-nspawn the suites skip, saying why; on CI (`$CI` set) the
 * missing box is a failing test instead, so CI never passes without the systemd suites.
 *
 * @example
 *   const env = useBox();
 *   describeUnless(env.unavailable)("…", () => { it("…", async () => env.box.exec([...])) });
 */
export function useBox(): { readonly box: Box; readonly agent: BoxAgent; readonly unavailable: string | undefined } {
  let box: Box | undefined;
  let agent: BoxAgent | undefined;
  if (boxUnavailable && process.env.CI) {
    it("boots a systemd box (required on CI)", () => {
      throw new Error(`the systemd suites cannot run: ${boxUnavailable}`);
    });
  }
  if (!boxUnavailable) {
    beforeAll(async () => {
      // One retry, said out loud: a boot that fails twice fails the suite with the box's console.
      box = await Box.boot({ binds: [REPO] }).catch((error: Error) => {
        process.stderr.write(`systemd box: first boot failed, trying once more: ${error.message}\n`);
        return Box.boot({ binds: [REPO] });
      });
      const started = Date.now();
      agent = await BoxAgent.start(box);
      process.stderr.write(`systemd box booted in ${box.bootMs} ms (PID 1 is ${box.pid1} here), its agent up in ${Date.now() - started} ms\n`);
    }, 120_000);
    afterAll(async () => {
      const started = Date.now();
      // The agent gets a few seconds; the box is stopped whatever it does.
      await Promise.race([agent?.stop().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
      await box?.shutdown();
      process.stderr.write(`systemd box stopped in ${Date.now() - started} ms\n`);
    }, 120_000);
  }
  return {
    get box() {
      if (!box) throw new Error("the box is not booted (yet)");
      return box;
    },
    get agent() {
      if (!agent) throw new Error("the box agent is not running (yet)");
      return agent;
    },
    unavailable: boxUnavailable,
  };
}
