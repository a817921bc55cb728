import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { JWT_SHAPE } from './support/jwt-shape.ts';

const DIR = join(import.meta.dirname, '..', '..', '.github', 'workflows');
const read = (name: string) => readFileSync(join(DIR, name), 'utf8');

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<
    string,
    {
      needs?: string;
      strategy?: { matrix: { shard: number[] } };
      env?: Record<string, string>;
      steps: Step[];
    }
  >;
}

describe('nightly.yml', () => {
  const text = read('nightly.yml');
  const wf = parse(text) as Workflow;

  it('runs on a schedule, sharded, with blob reports uploaded per shard', () => {
    expect(wf.on).toHaveProperty('schedule');
    const matrix = wf.jobs['matrix']!;
    expect(matrix.strategy!.matrix.shard).toEqual([1, 2, 3]);
    const runs = matrix.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('npm run setup');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, literally.
    expect(runs).toContain('npx playwright test --shard=${{ matrix.shard }}/${{ env.SHARDS }}');
    expect(
      matrix.steps.some(
        (s) => s.uses?.startsWith('actions/upload-artifact') && s.with?.['path'] === 'blob-report',
      ),
    ).toBe(true);
  });

  it('merges the shards, rebuilds the matrix report, builds Allure, appends the job summary, uploads', () => {
    const report = wf.jobs['report']!;
    expect(report.needs).toBe('matrix');
    const runs = report.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('npx playwright merge-reports --reporter html ./all-blob-reports');
    expect(runs).toContain('npm run report:matrix -- --blob all-blob-reports');
    expect(runs).toContain('npm run report:allure');
    expect(runs).toContain('cat matrix-report/summary.md >> "$GITHUB_STEP_SUMMARY"');
    expect(runs).toContain('npm run report:scan -- matrix-report allure-report');
    const uploaded = report.steps
      .filter((s) => s.uses?.startsWith('actions/upload-artifact'))
      .map((s) => s.with?.['path']);
    expect(uploaded).toEqual(['matrix-report', 'allure-report', 'playwright-report']);
    expect(text).not.toMatch(JWT_SHAPE);
  });
});

describe('release-gate.yml', () => {
  const text = read('release-gate.yml');
  const wf = parse(text) as Workflow;

  it('can be dispatched or called, and ends in npm run gate over the required cells', () => {
    expect(Object.keys(wf.on).sort()).toEqual(['workflow_call', 'workflow_dispatch']);
    const steps = wf.jobs['gate']!.steps;
    expect(steps.at(-1)!.run).toBe('npm run gate -- --cells "$CELLS"');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash array expansion, literally.
    expect(steps.map((s) => s.run ?? '').join('\n')).toContain('npx playwright test "${args[@]}"');
  });

  it('takes every secret from the secret store, targets prod as external, holds no literal key', () => {
    const env = wf.jobs['gate']!.env!;
    expect(env['PROD_TARGET_KIND']).toBe('external');
    for (const name of [
      'PROD_SUPABASE_SERVICE_ROLE_KEY',
      'PROD_CLIENT_PASSWORD',
      'PROD_AGENT_PASSWORD',
      'PROD_ADMIN_PASSWORD',
    ]) {
      expect(env[name]).toBe(`\${{ secrets.${name} }}`);
    }
    expect(text).not.toMatch(JWT_SHAPE);
    expect(text).not.toMatch(/sb_secret_/);
  });
});
