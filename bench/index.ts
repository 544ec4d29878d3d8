import { benchSwitchUnchanged } from "./switch-unchanged.js";

// Benchmarks print ratios against a reference measured in the same run; they are not tests.
const only = process.argv[2];
const benches: Record<string, () => Promise<void>> = { "switch-unchanged": benchSwitchUnchanged };
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  console.log(`# ${name}`);
  await run();
}
