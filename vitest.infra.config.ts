import { defineConfig } from "vitest/config";

// `npm run test:infra`: the fleet in network namespaces (test/infra/), apart from `npm test`.
// One file, its scenarios in order on one fleet; a scenario waits on timers, hence the bounds.
export default defineConfig({
  test: {
    include: ["test/infra/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
  },
});
