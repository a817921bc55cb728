import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, expect as pwExpect } from '@playwright/test';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../../fixtures/config/browser.ts';
import { VERDICTS } from '../../fixtures/evidence.ts';
import { knownSecrets } from '../../reporters/known-secrets.ts';
import { scanPaths } from '../../reporters/redact-check.ts';
import { type Summary, summarySchema } from '../../reporters/summary-schema.ts';

/**
 * The whole reporting pipeline on a real Playwright run: the stand-in matrix in pw-fixture/ run once
 * unsharded (live reporters) and once as two shards whose blob reports are merged by
 * `npm run report:matrix -- --blob`; both must yield the same cells, verdicts and diagnoses.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CONFIG = join(import.meta.dirname, 'pw-fixture', 'playwright.config.ts');
const PLAYWRIGHT = join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const work = mkdtempSync(join(tmpdir(), 'rtm-pipeline-'));
let leak: string;
let env: NodeJS.ProcessEnv;

function playwright(args: string[], reporters: unknown[], out: string) {
  const run = spawnSync(process.execPath, [PLAYWRIGHT, 'test', '-c', CONFIG, ...args], {
    cwd: work,
    encoding: 'utf8',
    env: {
      ...env,
      RTM_FIXTURE_REPORTERS: JSON.stringify(reporters),
      RTM_FIXTURE_OUT: join(work, 'playwright-output', out),
      NO_COLOR: '1',
    },
  });
  // Exit 1 means a test failed (the planted fault: the point, not an error); anything else is one.
  expect([0, 1], `${run.stderr}\n${run.stdout}`).toContain(run.status);
  return run;
}

function readSummary(dir: string): Summary {
  return summarySchema.parse(JSON.parse(readFileSync(join(work, dir, 'summary.json'), 'utf8')));
}

beforeAll(async () => {
  // A service-role-shaped JWT nobody else knows, planted in a failing cell's evidence and stdout.
  leak = await new SignJWT({ role: 'service_role', iss: 'supabase' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(`pipeline-test-secret-${Date.now()}-with-32-chars`));
  env = {
    ...process.env,
    RTM_FIXTURE_FAULT: 'session-not-forwarded',
    RTM_FIXTURE_LEAK_SERVICE_ROLE_KEY: leak,
  };
  delete env['CI'];
  delete env['FORCE_COLOR'];

  const live = playwright(
    [],
    [
      [join(ROOT, 'reporters', 'matrix-reporter.ts'), { outputDir: join(work, 'live') }],
      [join(ROOT, 'reporters', 'allure-reporter.ts'), { resultsDir: join(work, 'allure-results') }],
    ],
    'live',
  );
  expect(live.status).toBe(1);
  expect(live.stdout).toContain('Realtime matrix: 5/6 cells passed');
  const shards = [1, 2].map((shard) =>
    playwright(
      [`--shard=${shard}/2`],
      [['blob', { outputDir: join(work, `blob-${shard}`) }]],
      `shard-${shard}`,
    ),
  );
  expect(shards.map((s) => s.status).sort()).toEqual([0, 1]);
  mkdirSync(join(work, 'all-blob-reports'));
  for (const shard of [1, 2]) {
    for (const zip of readdirSync(join(work, `blob-${shard}`))) {
      copyFileSync(join(work, `blob-${shard}`, zip), join(work, 'all-blob-reports', zip));
    }
  }
  const merged = spawnSync(
    TSX,
    [
      join(ROOT, 'scripts', 'matrix-summary.ts'),
      '--blob',
      join(work, 'all-blob-reports'),
      '--out',
      join(work, 'merged'),
    ],
    { cwd: work, encoding: 'utf8', env: { ...env, NO_COLOR: '1' } },
  );
  expect(merged.status, merged.stderr).toBe(0);
  expect(merged.stdout).toContain('x agent-prod JOINED_AS_ANON at socket_identity');
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sharded run merged = unsharded run', () => {
  it('same cells, verdicts, stages and diagnoses; only the timings and the source differ', () => {
    const live = readSummary('live');
    const merged = readSummary('merged');
    expect(live.run.source).toBe('live');
    expect(merged.run.source).toBe('json-report');
    const shape = (s: Summary) =>
      s.cells.map((c) => ({
        cell: c.cell,
        verdict: c.verdict,
        stageReached: c.stageReached,
        passed: c.passed,
        latency: c.latency,
      }));
    expect(shape(merged)).toEqual(shape(live));
    expect(merged.diagnoses).toEqual(live.diagnoses);
    expect(merged.run.projects).toEqual(live.run.projects);
    expect(merged.run.projects).toEqual([
      'client-local',
      'client-prod',
      'agent-local',
      'agent-prod',
      'admin-local',
      'admin-prod',
    ]);
    expect(live.diagnoses.map((d) => d.fault)).toEqual(['session-not-forwarded']);
  });
});

describe('a run where no test ran', () => {
  it('--list leaves the last matrix report alone instead of writing an empty one', () => {
    const run = spawnSync(process.execPath, [PLAYWRIGHT, 'test', '-c', CONFIG, '--list'], {
      cwd: work,
      encoding: 'utf8',
      env: {
        ...env,
        RTM_FIXTURE_REPORTERS: JSON.stringify([
          [join(ROOT, 'reporters', 'matrix-reporter.ts'), { outputDir: join(work, 'live') }],
        ]),
      },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Matrix report: no test ran; ${join(work, 'live')}/ left as it was.`);
    expect(readSummary('live').run.totals.cells).toBe(6);
  });
});

describe('Allure results', () => {
  type AllureResult = {
    status: string;
    labels: { name: string; value: string }[];
    parameters: { name: string; value: string }[];
    statusDetails?: { message?: string };
    steps: { name: string; attachments: { name: string; source: string }[] }[];
  };
  const results = () =>
    readdirSync(join(work, 'allure-results'))
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(join(work, 'allure-results', f), 'utf8')) as AllureResult);

  it('labels each cell epic/feature/story, parameterises portal/env/target, attaches ladder and frames', () => {
    const all = results();
    expect(all).toHaveLength(6);
    const agentProd = all.find((r) =>
      r.parameters.some((p) => p.name === 'Project' && p.value === 'agent-prod'),
    )!;
    const label = (name: string) => agentProd.labels.filter((l) => l.name === name).map((l) => l.value);
    expect(label('epic')).toEqual(['Realtime']);
    expect(label('feature')).toEqual(['agent']);
    expect(label('story')).toEqual(['prod']);
    expect(label('tag')).toContain('JOINED_AS_ANON');
    expect(agentProd.parameters).toEqual(
      expect.arrayContaining([
        { name: 'portal', value: 'agent' },
        { name: 'env', value: 'prod' },
        { name: 'target kind', value: 'embedded' },
      ]),
    );
    expect(agentProd.status).toBe('failed');
    expect(agentProd.statusDetails?.message).toContain('JOINED_AS_ANON');
    const attachments = agentProd.steps.flatMap((s) => s.attachments);
    const ladder = attachments.find((a) => a.name === 'ladder.txt')!;
    expect(readFileSync(join(work, 'allure-results', ladder.source), 'utf8')).toContain(
      ' 4. FAIL socket_identity +812ms: phx_join carries the anon key, not the user JWT',
    );
    expect(attachments.map((a) => a.name)).toContain('frames.log');
  });

  it('writes one category per failing verdict into categories.json', () => {
    const categories = JSON.parse(readFileSync(join(work, 'allure-results', 'categories.json'), 'utf8')) as {
      name: string;
      messageRegex?: string;
    }[];
    const anon = categories.find((c) => c.name.startsWith('JOINED_AS_ANON'))!;
    expect(new RegExp(anon.messageRegex!).test('Error: agent-prod: JOINED_AS_ANON at socket_identity')).toBe(
      true,
    );
    // One per verdict but PASS.
    expect(categories.filter((c) => c.messageRegex)).toHaveLength(VERDICTS.length - 1);
  });
});

describe('Allure report', () => {
  it('npm run report:allure builds one HTML file that renders offline with the failing cell named', async () => {
    const run = spawnSync(
      TSX,
      [
        join(ROOT, 'scripts', 'report-allure.ts'),
        '--results',
        join(work, 'allure-results'),
        '--out',
        join(work, 'allure-report'),
      ],
      { cwd: work, encoding: 'utf8', env: { ...env, NO_COLOR: '1' } },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(join(work, 'allure-report')).filter((f) => f.endsWith('.html'))).toEqual([
      'index.html',
    ]);
    const html = readFileSync(join(work, 'allure-report', 'index.html'), 'utf8');
    expect(html).not.toContain('googletagmanager');

    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      const remote: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
        remote.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(join(work, 'allure-report', 'index.html')).href);
      await pwExpect(
        page.getByText('agent-prod › realtime: postgres_changes reach the signed-in portal'),
      ).toBeVisible({
        timeout: 30_000,
      });
      expect(remote).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe('secret scan over every file the reporters wrote', () => {
  it('finds no secret, signed JWT or sb_secret key in the matrix report or the Allure results', async () => {
    const secrets = [...knownSecrets(ROOT, env), { name: 'planted leak', value: leak }];
    const hits = await scanPaths(
      ['live', 'merged', 'allure-results', 'allure-report'].map((d) => join(work, d)),
      secrets,
    );
    expect(hits).toEqual([]);
    // The leak was really there to be redacted: the raw blob report (Playwright's own) still holds it.
    const raw = await scanPaths([join(work, 'all-blob-reports')], secrets);
    expect(raw.map((h) => h.what)).toContain('planted leak');
  });
});
