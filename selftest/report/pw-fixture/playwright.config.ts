import { defineConfig, type ReporterDescription } from '@playwright/test';

/**
 * A stand-in matrix for the reporting pipeline's own tests: the same six `<portal>-<env>` projects,
 * each test attaching a recorded CellResult (selftest/report/recorded) as the real fixtures attach a
 * live one. What is under test is everything after the attachment: reporters, shards, merge, Allure.
 */
const projects = ['client', 'agent', 'admin'].flatMap((portal) =>
  ['local', 'prod'].map((env) => ({ name: `${portal}-${env}`, metadata: { portal, env } })),
);

export default defineConfig({
  testDir: '.',
  testMatch: 'recorded-cell.spec.ts',
  outputDir: process.env['RTM_FIXTURE_OUT'] ?? 'test-results',
  projects,
  workers: 3,
  reporter: JSON.parse(process.env['RTM_FIXTURE_REPORTERS'] ?? '[["list"]]') as ReporterDescription[],
});
