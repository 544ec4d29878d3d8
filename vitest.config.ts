import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The fleet in network namespaces runs on its own: npm run test:infra (vitest.infra.config.ts).
    exclude: [...configDefaults.exclude, "test/infra/**"],
    // Real servers (nginx, s6) start in these tests; two cores are shared by all of them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
