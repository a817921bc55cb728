import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['selftest/**/*.test.ts'],
    // Stack suites boot real Postgres; they share one stack per file and must not race for ports.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
