import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELP_DESK_CELLS as CELLS } from '../../portals/help-desk-app.ts';
import { clearFaults, setFault } from '../../stack/faults/control-client.ts';
import { type MatrixDeployment, startMatrixDeployment } from '../catalogue/support/deployment.ts';
import { describeRun, type MatrixRun, runMatrix } from '../catalogue/support/matrix.ts';
import { scanArtifacts } from './support/artifact-scan.ts';
import { firstTaggedRow, taggedRows } from './support/tagged-rows.ts';

/**
 * What the matrix leaves behind: no tagged ticket in either project, even after a run is interrupted
 * (SIGINT to Playwright's process group while a test row is in the table), and no secret in any
 * artifact a run writes — summary, HTML report, Allure results, JSON results, traces (zips opened)
 * and the run's log.
 */
let deployment: MatrixDeployment;
const runs: MatrixRun[] = [];

beforeAll(async () => {
  deployment = await startMatrixDeployment('hygiene');
}, 120_000);
afterAll(async () => {
  if (deployment) {
    await clearFaults({ runtimeFile: deployment.runtimeFile }).catch((error: Error) => {
      process.stderr.write(`clearing faults after the hygiene suite failed: ${error.message}\n`);
    });
    await deployment.stack.stop();
  }
}, 60_000);

/**
 * Start a one-cell run whose row stays in the table (rls-hides-rows: the row is invisible to the
 * portal, so no event ends its wait), wait until the row exists, then signal Playwright's whole
 * process group as a terminal (SIGINT) or an OOM killer / cancelled CI job (SIGKILL) would.
 */
async function interruptMidInsert(signal: NodeJS.Signals): Promise<{ seen: string; run: MatrixRun }> {
  const control = { runtimeFile: deployment.runtimeFile };
  await setFault('client-local', 'rls-hides-rows', true, control);
  let child: ChildProcess | undefined;
  let done = false;
  const interrupted = runMatrix(deployment.dir, deployment.env, {
    label: `interrupted-${signal}`,
    projects: ['client-local'],
    onSpawn: (c) => {
      child = c;
    },
  }).finally(() => {
    done = true;
  });
  let seen: string | undefined;
  try {
    seen = await firstTaggedRow(deployment.stack, () => done);
    if (seen) process.kill(-child!.pid!, signal);
  } finally {
    await clearFaults(control);
  }
  const run = await interrupted;
  runs.push(run);
  expect(seen, `the run ended before any tagged row was seen\n${describeRun(run)}`).toBeDefined();
  return { seen: seen!, run };
}

/** The next run, one cell per env, sweeps what an interrupted run left in each project. */
async function nextRunSweeps(label: string): Promise<void> {
  const next = await runMatrix(deployment.dir, deployment.env, {
    label,
    projects: ['client-local', 'client-prod'],
  });
  runs.push(next);
  expect(
    next.cells.map((c) => `${c.cell}: ${c.verdict}`),
    describeRun(next),
  ).toEqual(['client-local: PASS', 'client-prod: PASS']);
  expect(await taggedRows(deployment.stack)).toEqual({ local: [], prod: [] });
}

describe('matrix hygiene', () => {
  it('SIGINT while a test row exists: nothing left once the run stops (teardown) or the next run swept', {
    timeout: 300_000,
  }, async () => {
    const { seen, run } = await interruptMidInsert('SIGINT');
    const left = Object.values(await taggedRows(deployment.stack)).flat();
    process.stdout.write(
      `\nSIGINT run: saw ${seen}; exit ${run.code ?? run.signal}; tagged rows right after: ${left.length} (${left.length === 0 ? 'teardown removed them' : 'left for the next run to sweep'})\n`,
    );
    await nextRunSweeps('after-SIGINT');
  });

  it('SIGKILL while a test row exists: the row survives the kill, and the next run sweeps it', {
    timeout: 300_000,
  }, async () => {
    const { seen } = await interruptMidInsert('SIGKILL');
    // No teardown runs under SIGKILL: the row must still be there, or the sweeper proves nothing.
    expect(Object.values(await taggedRows(deployment.stack)).flat()).toContain(seen);
    await nextRunSweeps('after-SIGKILL');
  });

  it('a whole run with a failing cell (so traces are kept) leaves no tagged row', {
    timeout: 300_000,
  }, async () => {
    const control = { runtimeFile: deployment.runtimeFile };
    await setFault('agent-prod', 'origin-not-allowed', true, control);
    await setFault('admin-local', 'slow-delivery', true, control);
    let run: MatrixRun;
    try {
      run = await runMatrix(deployment.dir, deployment.env, { label: 'all-reporters', allReporters: true });
    } finally {
      await clearFaults(control);
    }
    runs.push(run);
    const why = describeRun(run);
    expect(Object.fromEntries(run.cells.map((c) => [c.cell, c.verdict])), why).toEqual({
      ...Object.fromEntries(CELLS.map((c) => [c, 'PASS'])),
      'agent-prod': 'SOCKET_REJECTED',
      'admin-local': 'EVENT_LATE',
    });
    expect(await taggedRows(deployment.stack)).toEqual({ local: [], prod: [] });
  });

  it('no secret in any artifact: summary, HTML report, Allure, JSON, traces, logs', {
    timeout: 120_000,
  }, async () => {
    const full = runs.find((r) => r.label === 'all-reporters');
    expect(full, 'the all-reporters run did not happen').toBeDefined();
    // Not a vacuous scan: the full run really wrote each kind of artifact.
    const files = filesUnder(full!.dir).map((f) => relative(full!.dir, f));
    for (const kind of [
      /^matrix-report\/summary\.json$/,
      /^matrix-report\/index\.html$/,
      /^playwright-report\/index\.html$/,
      /^allure-results\/.+-result\.json$/,
      /^results\.json$/,
      /^test-results\/.+\/trace\.zip$/,
      /^output\.log$/,
    ]) {
      expect(
        files.some((f) => kind.test(f)),
        `${kind} among ${files.join(', ')}`,
      ).toBe(true);
    }
    const { scanned, hits, report } = await scanArtifacts(
      runs.map((r) => r.dir),
      deployment.secrets,
    );
    expect(scanned.length).toBe(runs.length);
    expect(hits, `secrets in the hygiene runs' artifacts:\n${report}`).toEqual([]);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}
