// Says the Node requirement once for the run; workers inherit the mark (and filter via setupFiles).
import './stack/node-support.ts';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['selftest/**/*.test.ts'],
    // Stack suites boot real Postgres; they share one stack per file and must not race for ports.
    fileParallelism: false,
    setupFiles: ['./stack/node-support.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
