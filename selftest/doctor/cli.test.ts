import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../fixtures/doctor/types.ts';
import { clearFaults, setFault } from '../../stack/faults/control-client.ts';
import { type MatrixDeployment, startMatrixDeployment } from '../catalogue/support/deployment.ts';
import { ROOT } from '../catalogue/support/matrix.ts';
import { taggedRows } from '../hygiene/support/tagged-rows.ts';

/**
 * `npm run doctor` as a team runs it, against a whole embedded deployment on free ports: every
 * portal × env gets the catalog checks and the config's test row checked as its user inside a
 * rolled-back transaction, so a policy that hides the row is named before any browser starts, and
 * nothing stays in the table.
 */
let deployment: MatrixDeployment;

beforeAll(async () => {
  deployment = await startMatrixDeployment('doctor-cli');
}, 120_000);
afterAll(async () => {
  if (deployment) {
    await clearFaults({ runtimeFile: deployment.runtimeFile }).catch(() => undefined);
    await deployment.stack.stop();
  }
}, 60_000);

interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  reports: { env: string; portal: string; report: DoctorReport }[];
}

function doctor(args: string[]): Promise<DoctorRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'doctor', '--', '--json', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...deployment.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      let reports: DoctorRun['reports'] = [];
      try {
        reports = (JSON.parse(stdout) as { reports: DoctorRun['reports'] }).reports;
      } catch {
        // left empty: the assertions print stdout and stderr
      }
      resolve({ code, stdout, stderr, reports });
    });
  });
}

const why = (run: DoctorRun) =>
  `exit ${run.code}\nstdout:\n${run.stdout.slice(-4000)}\nstderr:\n${run.stderr}`;
const rowCheck = (r: DoctorReport) => r.checks.find((c) => c.id === 'rls.row_hidden');

describe('npm run doctor', () => {
  it('healthy: every portal × env green, the test row visible to its user, nothing left in the table', {
    timeout: 60_000,
  }, async () => {
    const run = await doctor([]);
    expect(run.code, why(run)).toBe(0);
    expect(run.reports.map((r) => `${r.portal}-${r.env}`).sort(), why(run)).toEqual(
      [...deployment.stack.deployments.keys()]
        .flatMap((env) => deployment.stack.app.portals.map((p) => `${p.name}-${env}`))
        .sort(),
    );
    for (const { portal, env, report } of run.reports) {
      expect(
        report.checks.filter((c) => c.status === 'fail'),
        `${portal}-${env}`,
      ).toEqual([]);
      expect(rowCheck(report), `${portal}-${env}`).toMatchObject({ status: 'ok', seen: { visible: true } });
      expect(rowCheck(report)?.summary).toMatch(
        /^The test row \(id = .*, inserted and rolled back\) is visible/,
      );
    }
    expect(await taggedRows(deployment.stack)).toEqual({ local: [], prod: [] });
    for (const secret of deployment.secrets) expect(run.stdout + run.stderr).not.toContain(secret.value);
  });

  it('a policy that hides the row from one portal fails that cell only, with the SQL to reproduce it', {
    timeout: 60_000,
  }, async () => {
    const control = { runtimeFile: deployment.runtimeFile };
    await setFault('agent-prod', 'rls-hides-rows', true, control);
    try {
      const run = await doctor(['--env', 'prod']);
      expect(run.code, why(run)).toBe(1);
      const failing = run.reports.filter((r) => r.report.checks.some((c) => c.status === 'fail'));
      expect(
        failing.map((r) => `${r.portal}-${r.env}`),
        why(run),
      ).toEqual(['agent-prod']);
      const check = rowCheck(failing[0]!.report)!;
      expect(check.status).toBe('fail');
      expect(check.fixSql).toMatch(/^begin;\ninsert into public\.tickets /);
    } finally {
      await clearFaults(control);
    }
    expect(await taggedRows(deployment.stack)).toEqual({ local: [], prod: [] });
  });

  it('--catalog-only inserts nothing and says the row check was not run', { timeout: 60_000 }, async () => {
    const run = await doctor(['--env', 'local', '--catalog-only']);
    expect(run.code, why(run)).toBe(0);
    for (const { report } of run.reports) {
      expect(rowCheck(report)).toBeUndefined();
      expect(report.skipped).toContainEqual({
        check: 'rls.row_hidden',
        why: 'no row given: pass the inserted row to check it as the user',
      });
    }
  });
});
