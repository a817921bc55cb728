import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runningStackEnvs } from '../../../fixtures/config/web-server.ts';
import { RUNTIME_FILE } from '../../../fixtures/env/runtime.ts';
import type { CellResult } from '../../../fixtures/evidence.ts';
import { HELP_DESK_APP } from '../../../portals/help-desk-app.ts';
import {
  type JsonReport as PlaywrightJsonReport,
  readJsonReport,
} from '../../../reporters/read-json-report.ts';
import { DEFAULT_PORTS } from '../../../stack/topology/default-ports.ts';
import { takenPorts } from '../../../stack/topology/listen.ts';

/**
 * Running the real matrix from the project's own tests: `npx playwright test` in a child process,
 * its JSON report, and the CellResult each test attached. The matrix needs the fixed ports
 * (compatibility with `supabase start` is the point), so callers first prove they are usable.
 */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const FIXED = [
  { port: DEFAULT_PORTS.db, what: 'Postgres' },
  { port: DEFAULT_PORTS.localApi, what: 'local API' },
  ...HELP_DESK_APP.portals.map((p) => ({ port: p.localPort, what: `local ${p.name} portal` })),
  { port: DEFAULT_PORTS.edge, what: 'HTTPS edge' },
];

/** Free fixed ports, or a running `npm run stack` serving both envs; otherwise say what holds them. */
export async function fixedPortsState(): Promise<'free' | 'running-stack'> {
  const running = runningStackEnvs(RUNTIME_FILE);
  if (running?.includes('local') && running.includes('prod')) return 'running-stack';
  const taken = await portsStillTaken();
  if (taken.length === 0) return 'free';
  const stack = running
    ? `the running stack in ${RUNTIME_FILE} serves only ${running.join(', ') || 'no env'}`
    : `no running \`npm run stack\` is recorded in ${RUNTIME_FILE}`;
  throw new Error(
    `The matrix needs the fixed ports, and they are held by something it cannot use (${stack}):\n  ${taken.join('\n  ')}\nStop that process, or start \`npm run stack\` (both envs) and run again.`,
  );
}

/**
 * The fixed ports still taken once a holder that is on its way out had its moment: the previous
 * test file's stack may stop its Postgres a beat after its `stop()` resolved (the port is then
 * taken by no visible listener). Asks again while anything is taken, up to 15 s, and reports what
 * is taken then.
 */
export async function portsStillTaken(ports: { port: number; what: string }[] = FIXED): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const taken = await takenPorts(ports);
    if (taken.length === 0 || Date.now() > deadline) return taken;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The parts of Playwright's JSON report the e2e assertions read, beside what the reporter reads. */
export interface JsonReport extends PlaywrightJsonReport {
  stats: {
    expected: number;
    unexpected: number;
    flaky: number;
    skipped: number;
    startTime?: string;
    duration?: number;
  };
  errors: { message?: string }[];
}

export interface MatrixRun {
  /** Where the run's artifacts (traces, screenshots, the JSON report) went. */
  outputDir: string;
  code: number | null;
  output: string;
  report?: JsonReport;
}

export function runMatrix(
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  reporter = 'json',
): Promise<MatrixRun> {
  const outputDir = mkdtempSync(join(tmpdir(), 'rtm-matrix-'));
  const reportFile = join(outputDir, 'results.json');
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      ['playwright', 'test', `--reporter=${reporter}`, `--output=${join(outputDir, 'artifacts')}`, ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          PLAYWRIGHT_JSON_OUTPUT_FILE: reportFile,
          MATRIX_REPORT_DIR: join(outputDir, 'matrix-report'),
          CI: '',
          FORCE_COLOR: '0',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const collect = (d: Buffer) => {
      output += d.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      let report: JsonReport | undefined;
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return reject(error);
      }
      resolve({ outputDir, code, output, report });
    });
  });
}

/** Every `matrix-cell.json` the run attached, last attempt per cell (read as the reporter reads it). */
export function cellResults(report: JsonReport): CellResult[] {
  return readJsonReport(report).outcomes.flatMap((o) => (o.cell ? [o.cell] : []));
}
