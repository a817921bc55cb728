/**
 * bench:matrix — wall time of `npx playwright test` from cold (the run boots the embedded stack as
 * its webServer): all six cells, then one (`--project=agent-prod`). It needs the fixed ports of
 * `supabase start` and the portals, so it runs only when every one is free and no stack is running
 * (a running stack would be reused and the figure would not be cold).
 *
 * bench:overhead — one cell with and without frame recording. The matrix has no switch to turn the
 * recorder off (fixtures/recorder.fixture.ts arms it as an auto fixture and the ladder judges from
 * its frames), so that figure is reported as not measurable, beside the cell's own run-to-run
 * spread, which is the noise a ≤ 5 % difference would have to beat.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HELP_DESK_APP } from '../../portals/help-desk-app.ts';
import { DEFAULT_PORTS } from '../../stack/topology/default-ports.ts';
import { takenPorts } from '../../stack/topology/listen.ts';
import { type BenchResult, RESULTS_DIR, type Row } from './report.ts';
import { ms } from './stats.ts';

const RUN_TIMEOUT_MS = 240_000;

/** Why the fixed-port runs cannot happen now, or undefined when they can. */
export async function matrixBlocked(): Promise<string | undefined> {
  const wanted = [
    { port: DEFAULT_PORTS.db, what: 'Postgres' },
    { port: DEFAULT_PORTS.localApi, what: 'local API' },
    { port: DEFAULT_PORTS.edge, what: 'HTTPS edge' },
    ...HELP_DESK_APP.portals.map((p) => ({ port: p.localPort, what: `local ${p.name} portal` })),
  ];
  const taken = await takenPorts(wanted);
  if (taken.length)
    return `the fixed ports are in use (${taken.join('; ')}) — another engineer's stack or run; not cold, and not ours to stop`;
  if (existsSync('.stack/runtime.json')) {
    const pid = (JSON.parse(readFileSync('.stack/runtime.json', 'utf8')) as { pid?: number }).pid;
    if (pid && isAlive(pid))
      return `a stack is running (pid ${pid}, .stack/runtime.json); the matrix would reuse it`;
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface MatrixRun {
  args: string[];
  wallMs: number;
  exitCode: number | null;
  log: string;
}

/** One `npx playwright test` run, output kept in bench-results/ (its tail is quoted when it fails). */
async function playwright(
  args: string[],
  label: string,
  env: Record<string, string> = {},
): Promise<MatrixRun> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const log = join(RESULTS_DIR, `matrix-${label}.log`);
  const started = performance.now();
  const child = spawn('npx', ['playwright', 'test', ...args], {
    env: { ...process.env, FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const wallMs = performance.now() - started;
  await writeFile(log, output);
  return { args, wallMs, exitCode, log };
}

export async function benchMatrix(): Promise<BenchResult> {
  const blocked = await matrixBlocked();
  if (blocked) {
    return {
      name: 'matrix',
      rows: [
        {
          figure: 'six-cell matrix, cold wall time',
          value: 'skipped',
          target: '≤ 10 s',
          anchor: '`supabase start` alone 74–110 s',
        },
        { figure: 'one cell (agent-prod), cold wall time', value: 'skipped', target: '—', anchor: '—' },
      ],
      notes: [`skipped: ${blocked}. Run \`npm run bench:matrix\` when the ports are free.`],
    };
  }
  const six = await playwright([], 'six-cells');
  const one = await playwright(['--project=agent-prod'], 'agent-prod');
  // Playwright's default is half the cores: one worker here, so the six cells run one after another.
  const three = await playwright([], 'six-cells-3-workers', { MATRIX_WORKERS: '3' });
  const rows: Row[] = [
    {
      figure: 'six-cell matrix, cold wall time (npx playwright test)',
      value: `${ms(six.wallMs)}${six.exitCode === 0 ? '' : ` (exit ${six.exitCode}, see ${six.log})`}`,
      target: '≤ 10 s',
      anchor: '`supabase start` alone 74–110 s',
      pass: six.exitCode === 0 && six.wallMs <= 10_000,
      raw: six,
    },
    {
      figure: 'six-cell matrix, cold, MATRIX_WORKERS=3',
      value: `${ms(three.wallMs)}${three.exitCode === 0 ? '' : ` (exit ${three.exitCode}, see ${three.log})`}`,
      target: '≤ 10 s',
      anchor: '—',
      pass: three.exitCode === 0 && three.wallMs <= 10_000,
      raw: three,
    },
    {
      figure: 'one cell, cold wall time (--project=agent-prod)',
      value: `${ms(one.wallMs)}${one.exitCode === 0 ? '' : ` (exit ${one.exitCode}, see ${one.log})`}`,
      target: '—',
      anchor: '—',
      raw: one,
    },
  ];
  return {
    name: 'matrix',
    rows,
    notes: [
      'Cold: no stack running; each run boots the embedded stack (both envs, portals, edge) as its webServer. Shared machine.',
    ],
  };
}
