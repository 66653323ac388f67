import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // DuckDB and postgres.js COPY streams are native/IO heavy: separate processes, not worker threads.
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
