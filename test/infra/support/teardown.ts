/**
 * Everything the infra suite starts or creates is registered here as it is made, and undone in
 * reverse order: by afterAll, and by SIGINT/SIGTERM/SIGHUP (a Ctrl-C or a CI timeout) so that no
 * network namespace, bridge, mount or process outlives a run. Each step is undone once; a step
 * that fails is reported and the others still run.
 *
 * @example
 *   const teardown = new Teardown();
 *   teardown.add("bridge cgi1br", () => ip(["link", "del", "cgi1br"]));
 *   afterAll(() => teardown.run());
 */
export class Teardown {
  private steps: { what: string; undo: () => unknown }[] = [];
  private running: Promise<string[]> | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`infra: ${signal}: tearing the fleet down\n`);
    void this.run().finally(() => process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGHUP" ? 1 : 15)));
  };

  constructor() {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, this.onSignal);
  }

  /** Register how to undo something just made (undone last-in, first-out). */
  add(what: string, undo: () => unknown): void {
    this.steps.push({ what, undo });
  }

  /** Undo everything registered; resolves to the steps that failed (also written to stderr). */
  run(): Promise<string[]> {
    this.running ??= (async () => {
      const failed: string[] = [];
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        try {
          await step.undo();
        } catch (error) {
          failed.push(`${step.what}: ${(error as Error).message}`);
          process.stderr.write(`infra teardown: ${step.what}: ${(error as Error).message}\n`);
        }
      }
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(signal, this.onSignal);
      return failed;
    })();
    return this.running;
  }
}
