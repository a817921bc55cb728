// First: says the Node requirement once for the run, before any process loads supabase-js.
import './stack/node-support.ts';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { defineConfig, type PlaywrightTestConfig, type ReporterDescription } from '@playwright/test';
import { chromiumLaunchOptions } from './fixtures/config/browser.ts';
import { isSharded, selectedProjects } from './fixtures/config/selection.ts';
import { stackWebServer } from './fixtures/config/web-server.ts';
import { environmentNames, loadEnvironments } from './fixtures/env/load.ts';
import type { MatrixOptions } from './fixtures/options.fixture.ts';
import { PORTAL_NAMES } from './fixtures/portal-model.ts';
import { ENVIRONMENTS_DIR } from './fixtures/target.ts';

/**
 * The matrix: one project per portal × environment (`client-local` … `admin-prod`), built from the
 * portal list and the environment files in environments/. Validated here, once: a bad value stops
 * the run before any browser starts, naming the file and the key.
 */
const environments = loadEnvironments(ENVIRONMENTS_DIR, environmentNames(ENVIRONMENTS_DIR));

// One run id and start time for the runner and every worker (workers inherit the runner's env):
// test rows are tagged with it, and tagged rows older than the start are a killed run's leftovers.
process.env['RTM_RUN_ID'] ??= randomUUID().slice(0, 8);
process.env['RTM_RUN_STARTED_AT'] ??= new Date().toISOString();

const cells = environments.flatMap((environment) =>
  PORTAL_NAMES.map((portal) => ({ name: `${portal}-${environment.name}`, portal, environment })),
);
const selected = selectedProjects(
  process.argv,
  cells.map((c) => c.name),
);
const neededEmbedded = [
  ...new Set(
    cells
      .filter((c) => selected.includes(c.name) && c.environment.values.TARGET_KIND === 'embedded')
      .map((c) => c.environment.name),
  ),
];

const ci = !!process.env['CI'];

const reporters: ReporterDescription[] = [
  ['list'],
  ['html', { open: 'never', outputFolder: 'playwright-report' }],
  ['json', { outputFile: 'test-results/results.json' }],
  ['junit', { outputFile: 'test-results/junit.xml' }],
];
if (isSharded(process.argv)) reporters.push(['blob', { outputDir: 'blob-report' }]);
// The matrix table, summary.json and the HTML heatmap (the report engineer's reporter).
if (existsSync('./reporters/matrix-reporter.ts')) reporters.push(['./reporters/matrix-reporter.ts']);
// Allure: allure-playwright wrapped with the matrix's labels and categories (the report engineer's).
if (existsSync('./reporters/allure-reporter.ts')) reporters.push(['./reporters/allure-reporter.ts']);

const config: PlaywrightTestConfig<MatrixOptions> = {
  testDir: './tests',
  outputDir: 'test-results/artifacts',
  fullyParallel: true,
  forbidOnly: ci,
  // Locally a failure is shown as it happened. In CI, 2 retries absorb a runner hiccup, and a cell
  // that passes only on retry is reported "flaky" (not hidden): Realtime flakiness is a finding.
  retries: ci ? 2 : 0,
  // Playwright's default (half the cores) unless MATRIX_WORKERS says otherwise: one worker on a
  // 2-core runner, where three cut the six-cell wall time only ~15 % (docs/performance.md).
  workers: process.env['MATRIX_WORKERS'] ? Number(process.env['MATRIX_WORKERS']) : undefined,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: reporters,
  use: {
    // DOM snapshots carry the page's network log, and with it the sign-in request's password and the
    // session's tokens; no artifact may hold those, so traces keep actions, console and screenshots.
    trace: { mode: 'retain-on-failure', snapshots: false, screenshots: true, sources: true },
    screenshot: 'only-on-failure',
    launchOptions: chromiumLaunchOptions(),
  },
  projects: cells.map(({ name, portal, environment }) => ({
    name,
    use: {
      portal,
      env: environment.name,
      browserName: 'chromium' as const,
      // The embedded edge's certificate is made at boot and trusted by nobody; a real target's is.
      ignoreHTTPSErrors: environment.values.TARGET_KIND === 'embedded',
    },
  })),
  webServer: stackWebServer(neededEmbedded),
};

export default defineConfig(config);
