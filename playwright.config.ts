// First: says the Node requirement once for the run, before any process loads supabase-js.
import './stack/node-support.ts';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { defineConfig, type PlaywrightTestConfig, type ReporterDescription } from '@playwright/test';
import { chromiumLaunchOptions } from './fixtures/config/browser.ts';
import { loadMatrixConfig, portalEnvKeys } from './fixtures/config/matrix-config.ts';
import { isSharded, selectedProjects } from './fixtures/config/selection.ts';
import { stackWebServer } from './fixtures/config/web-server.ts';
import { environmentNames, loadEnvironments } from './fixtures/env/load.ts';
import type { MatrixOptions } from './fixtures/options.fixture.ts';

/**
 * The matrix: one project per portal × environment (`client-local` … `admin-prod`), built from the
 * app's config (realtime-matrix.config.ts, or RTM_CONFIG) and its environment files. Validated here,
 * once: a bad value stops the run before any browser starts, naming the file, the portal and the key.
 */
const matrix = await loadMatrixConfig();
const envNames = environmentNames(matrix.environmentsDir);
if (envNames.length === 0) {
  throw new Error(
    `${matrix.configFile}: its environments folder ${matrix.environmentsDir} has no <env>.env file, so the matrix has no cells. Set environmentsDir (relative to the config file) or add e.g. local.env there.`,
  );
}
const environments = loadEnvironments(matrix.environmentsDir, envNames, process.env, portalEnvKeys(matrix));

// One run id and start time for the runner and every worker (workers inherit the runner's env):
// test rows are tagged with it, and tagged rows older than the start are a killed run's leftovers.
process.env['RTM_RUN_ID'] ??= randomUUID().slice(0, 8);
process.env['RTM_RUN_STARTED_AT'] ??= new Date().toISOString();

const cells = environments.flatMap((environment) =>
  Object.keys(environment.portals).map((portal) => ({
    name: `${portal}-${environment.name}`,
    portal,
    environment,
  })),
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

if (neededEmbedded.length > 0 && !matrix.embedded) {
  throw new Error(
    `${neededEmbedded.map((e) => `${matrix.environmentsDir}/${e}.env`).join(', ')}: TARGET_KIND=embedded, but ${matrix.configFile} has no \`embedded\` section telling the stack how to deploy the ${matrix.name} app. Add one (see README "Test your own app"), or set TARGET_KIND=external and point the environment at your deployment.`,
  );
}

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
  metadata: { app: matrix.name },
  projects: cells.map(({ name, portal, environment }) => ({
    name,
    metadata: { portal, env: environment.name },
    use: {
      portal,
      env: environment.name,
      browserName: 'chromium' as const,
      // The embedded edge's certificate is made at boot and trusted by nobody; a real target's is.
      ignoreHTTPSErrors: environment.values.TARGET_KIND === 'embedded',
    },
  })),
  webServer: stackWebServer(neededEmbedded, undefined, matrix.embedded?.name),
};

export default defineConfig(config);
