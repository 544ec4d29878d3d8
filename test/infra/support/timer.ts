import type { FleetHost, RunOptions } from "./host.js";

/**
 * A host's agent timer, at test speed: one run, then `intervalMs` (plus up to a quarter of it at
 * random, the splay that keeps a fleet from polling in lockstep), then the next, as
 * `congruent-manage.timer` does every ten minutes. A scenario pauses it to run the agent by
 * hand (a fault on one run) and resumes it; `options` apply to every run meanwhile.
 *
 * @example const t = new Timer(host, 2000); t.start(); await t.pause(); await host.run({ env }); t.resume();
 */
export class Timer {
  private paused = true;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  options: RunOptions = {};

  constructor(
    readonly host: FleetHost,
    private readonly intervalMs: number,
  ) {}

  /** Start ticking (the first run at once). */
  start(): void {
    this.paused = false;
    this.loop ??= this.tick();
    this.wake?.();
  }

  /** No new run starts; resolves when the one in flight ended. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.host.settle();
  }

  resume(): void {
    this.start();
  }

  /** Stop for good (teardown). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.paused = true;
    this.wake?.();
    await this.loop;
  }

  private async tick(): Promise<void> {
    while (!this.stopped) {
      if (!this.paused) {
        await this.host.run(this.options).catch((error: Error) => process.stderr.write(`infra: ${this.host.name}: agent run failed to start: ${error.message}\n`));
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.paused ? 60_000 : this.intervalMs * (1 + Math.random() / 4));
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
    }
  }
}
