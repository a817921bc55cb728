import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELL_ATTACHMENT, type CellResult, type Verdict } from '../fixtures/evidence.ts';
import type { Stack } from '../stack/index.ts';
import { CELLS, PORTALS } from '../stack/topology/cells.ts';
import { startDeployment } from './topology-support.ts';

/**
 * The fault catalogue through the real matrix: with each fault of shared/FAILURES.md switched on
 * for one cell (or env), `npx playwright test` names it with the catalogue's verdict and every other
 * cell still passes. The stack runs on free ports: the matrix is pointed at it the way a team points
 * it at any deployment, by values (prefixed env vars and RTM_RUNTIME_FILE), and run with a config
 * that is the project's own minus the webServer (which would start a stack on the fixed ports).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Rounds of faults that do not interfere: one per cell, env-wide ones alone with a cell elsewhere. */
const ROUNDS: { faults: Record<string, string>; expected: Partial<Record<string, Verdict>> }[] = [
  {
    faults: {
      'client-local': 'portal-down',
      'agent-local': 'role-claim-missing',
      'admin-local': 'csp-blocks-socket',
      'client-prod': 'origin-not-allowed',
      'agent-prod': 'edge-drops-upgrade',
      'admin-prod': 'bad-apikey',
    },
    expected: {
      'client-local': 'PORTAL_UNREACHABLE',
      'agent-local': 'ROLE_REJECTED',
      'admin-local': 'SOCKET_BLOCKED',
      'client-prod': 'SOCKET_REJECTED',
      'agent-prod': 'SOCKET_REJECTED',
      'admin-prod': 'SOCKET_REJECTED',
    },
  },
  {
    faults: {
      'client-local': 'session-not-forwarded',
      'agent-local': 'expired-token',
      'admin-local': 'join-unanswered',
      'client-prod': 'rls-hides-rows',
      'agent-prod': 'filter-mismatch',
      'admin-prod': 'slow-delivery',
    },
    expected: {
      'client-local': 'JOINED_AS_ANON',
      'agent-local': 'JOIN_ERROR',
      'admin-local': 'JOIN_TIMEOUT',
      'client-prod': 'NO_EVENT',
      'agent-prod': 'NO_EVENT',
      'admin-prod': 'EVENT_LATE',
    },
  },
  {
    faults: { local: 'table-not-published', 'agent-prod': 'duplicate-subscription' },
    expected: {
      'client-local': 'CHANGES_UNAVAILABLE',
      'agent-local': 'CHANGES_UNAVAILABLE',
      'admin-local': 'CHANGES_UNAVAILABLE',
      'agent-prod': 'DUPLICATE_JOIN',
    },
  },
];

/**
 * `npx playwright test` with the project's config minus its webServer, written next to the run's
 * output (inside the repo, so it loads as the same ESM TypeScript as the config it wraps).
 */
function runMatrix(
  outputDir: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string; cells: CellResult[] }> {
  const reportFile = join(outputDir, 'results.json');
  const configFile = join(outputDir, 'playwright.config.ts');
  writeFileSync(
    configFile,
    `import base from ${JSON.stringify(join(ROOT, 'playwright.config.ts'))};\n` +
      `export default { ...base, webServer: undefined, testDir: ${JSON.stringify(join(ROOT, 'tests'))}, ` +
      `outputDir: ${JSON.stringify(join(outputDir, 'artifacts'))}, ` +
      `reporter: [['json', { outputFile: ${JSON.stringify(reportFile)} }]] };\n`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['playwright', 'test', '--config', configFile], {
      cwd: ROOT,
      env: { ...process.env, ...env, CI: '', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      let report: { suites: Suite[] } | undefined;
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as { suites: Suite[] };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return reject(error);
      }
      resolve({ code, output, cells: report ? cellResults(report.suites) : [] });
    });
  });
}

type Suite = {
  suites?: Suite[];
  specs?: { tests: { results: { attachments: { name: string; body?: string; path?: string }[] }[] }[] }[];
};

function cellResults(suites: Suite[]): CellResult[] {
  const out: CellResult[] = [];
  const walk = (node: Suite) => {
    for (const spec of node.specs ?? []) {
      for (const test of spec.tests) {
        for (const result of test.results) {
          for (const a of result.attachments.filter((x) => x.name === CELL_ATTACHMENT)) {
            const text = a.body
              ? Buffer.from(a.body, 'base64').toString('utf8')
              : readFileSync(a.path ?? '', 'utf8');
            out.push(JSON.parse(text) as CellResult);
          }
        }
      }
    }
    for (const child of node.suites ?? []) walk(child);
  };
  for (const suite of suites) walk(suite);
  return out;
}

describe('the fault catalogue through the matrix', () => {
  let stack: Stack;
  let dir: string;
  /** Where the matrix finds this stack: per-env values and the runtime file with its secrets. */
  const env: Record<string, string> = {};

  beforeAll(async () => {
    // Inside the repo (gitignored test-results/), so the wrapper config resolves as ESM like the real one.
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    dir = mkdtempSync(join(ROOT, 'test-results', 'rtm-faults-matrix-'));
    env['RTM_RUNTIME_FILE'] = join(dir, 'runtime.json');
    stack = await startDeployment({ control: true, runtimeFile: env['RTM_RUNTIME_FILE'] });
    for (const [name, d] of stack.deployments) {
      const prefix = name.toUpperCase();
      env[`${prefix}_SUPABASE_URL`] = d.supabaseUrl;
      env[`${prefix}_SUPABASE_ANON_KEY`] = d.project.config.anonKey;
      for (const portal of PORTALS) {
        env[`${prefix}_PORTAL_${portal.toUpperCase()}_URL`] = d.portals?.portals[portal].url ?? '';
      }
    }
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  for (const [i, round] of ROUNDS.entries()) {
    const label = Object.entries(round.faults)
      .map(([target, fault]) => `${target}:${fault}`)
      .join(', ');
    it(`round ${i + 1}: ${label}`, { timeout: 300_000 }, async () => {
      await stack.faults.clear();
      for (const [target, fault] of Object.entries(round.faults)) await stack.faults.set(target, fault, true);
      const { code, output, cells } = await runMatrix(mkdtempSync(join(dir, 'run-')), env);
      const seen = Object.fromEntries(cells.map((c) => [c.cell, `${c.verdict}: ${c.cause}`]));
      const why = `npx playwright test exited ${code}; verdicts:\n${JSON.stringify(seen, null, 2)}\noutput tail:\n${output.slice(-3000)}`;
      expect(cells.map((c) => c.cell).sort(), why).toEqual([...CELLS].sort());
      for (const cell of cells) {
        expect(cell.verdict, `${cell.cell}\n${why}`).toBe(round.expected[cell.cell] ?? 'PASS');
        expect(cell.targetKind).toBe('embedded');
      }
    });
  }
});
