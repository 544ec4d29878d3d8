import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Real servers (nginx, s6) start in these tests; two cores are shared by all of them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
