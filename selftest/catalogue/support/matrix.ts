import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellResult } from '../../../fixtures/evidence.ts';
import { type JsonReport, readJsonReport } from '../../../reporters/read-json-report.ts';
import { type Summary, summarySchema } from '../../../reporters/summary-schema.ts';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface MatrixRunOptions {
  /** Names the run's directory (`<dir>/<label>/`). */
  label: string;
  /** `--project` values; all six cells when empty. */
  projects?: readonly string[];
  /** Also Playwright's HTML report and the Allure results, for the artifact scans. */
  allReporters?: boolean;
  /** Called with the child once it runs (the hygiene suite interrupts it). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface MatrixRun {
  label: string;
  dir: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** matrix-report/summary.json of this run (schema-checked); undefined when the reporter wrote none. */
  summary: Summary | undefined;
  /** The CellResult each test attached, last attempt per cell. */
  cells: CellResult[];
  wallMs: number;
}

/**
 * `npx playwright test` with the project's own config minus its webServer (which would start a stack
 * on the fixed ports), pointed at a deployment by values (`env`), every output in a directory of its
 * own so runs never overwrite each other's reports.
 */
export function runMatrix(
  parent: string,
  env: Record<string, string>,
  options: MatrixRunOptions,
): Promise<MatrixRun> {
  const dir = join(parent, options.label);
  mkdirSync(dir, { recursive: true });
  const reportFile = join(dir, 'results.json');
  const summaryDir = join(dir, 'matrix-report');
  const reporters = [
    `['list']`,
    `['json', { outputFile: ${JSON.stringify(reportFile)} }]`,
    `[${JSON.stringify(join(ROOT, 'reporters/matrix-reporter.ts'))}, { outputDir: ${JSON.stringify(summaryDir)} }]`,
  ];
  if (options.allReporters) {
    reporters.push(
      `['html', { open: 'never', outputFolder: ${JSON.stringify(join(dir, 'playwright-report'))} }]`,
      `[${JSON.stringify(join(ROOT, 'reporters/allure-reporter.ts'))}, { resultsDir: ${JSON.stringify(join(dir, 'allure-results'))} }]`,
    );
  }
  const configFile = join(dir, 'playwright.config.ts');
  writeFileSync(
    configFile,
    `import base from ${JSON.stringify(join(ROOT, 'playwright.config.ts'))};\n` +
      `export default { ...base, webServer: undefined, testDir: ${JSON.stringify(join(ROOT, 'tests'))}, ` +
      `outputDir: ${JSON.stringify(join(dir, 'test-results'))}, reporter: [${reporters.join(', ')}] };\n`,
  );
  const args = ['playwright', 'test', '--config', configFile];
  for (const p of options.projects ?? []) args.push(`--project=${p}`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // Its own process group, so an interrupt reaches Playwright's workers as a Ctrl-C would.
    const child = spawn('npx', args, {
      cwd: ROOT,
      // Playwright's default is half the cores: one worker on a 2-core runner, the cells one after
      // another. Three overlap their waits (page loads, event and join timeouts) and halve a run.
      env: { MATRIX_WORKERS: '3', ...process.env, ...env, CI: '', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const collect = (d: Buffer) => {
      output += d.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    options.onSpawn?.(child);
    child.on('close', (code, signal) => {
      try {
        writeFileSync(join(dir, 'output.log'), output);
        resolve({
          label: options.label,
          dir,
          code,
          signal,
          output,
          summary: readSummary(join(summaryDir, 'summary.json')),
          cells: readCells(reportFile),
          wallMs: performance.now() - started,
        });
      } catch (error) {
        reject(error);
      }
    });
  });
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readSummary(path: string): Summary | undefined {
  const text = readOptional(path);
  return text === undefined ? undefined : summarySchema.parse(JSON.parse(text));
}

function readCells(reportFile: string): CellResult[] {
  const text = readOptional(reportFile);
  if (text === undefined) return [];
  return readJsonReport(JSON.parse(text) as JsonReport).outcomes.flatMap((o) => (o.cell ? [o.cell] : []));
}

/** One line per cell for assertion messages: verdict, stage, cause. */
export function describeRun(run: MatrixRun): string {
  const cells = run.cells
    .map((c) => `  ${c.cell}: ${c.verdict} at ${c.failedStage ?? '-'}: ${c.cause}`)
    .join('\n');
  return `npx playwright test (${run.label}) exited ${run.code}${run.signal ? ` on ${run.signal}` : ''} in ${Math.round(run.wallMs)} ms; cells:\n${cells || '  none'}\noutput tail (${run.dir}/output.log):\n${run.output.slice(-2500)}`;
}
