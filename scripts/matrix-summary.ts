/**
 * `npm run report:matrix`: rebuilds matrix-report/ (summary.json, summary.md, index.html) from a
 * finished run, e.g. in the nightly merge job after `--shard` runs:
 *
 *   npm run report:matrix -- --blob all-blob-reports     (merges the shards' blob reports itself)
 *   npm run report:matrix -- --json playwright-report.json
 *
 * The summary is built by the same code the live reporter uses, so it equals an unsharded run's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSummary } from '../reporters/build-summary.ts';
import { gitSha } from '../reporters/git-sha.ts';
import { secretValues } from '../reporters/known-secrets.ts';
import { type JsonReport, readJsonReport } from '../reporters/read-json-report.ts';
import { colorWanted, renderTable } from '../reporters/terminal-table.ts';
import { DEFAULT_REPORT_DIR, writeReport } from '../reporters/write-report.ts';

const HELP = `Usage: npm run report:matrix -- (--blob <dir> | --json <file>) [--out <dir>]

  --blob <dir>   directory holding the blob reports (.zip) of every shard; merged with
                 \`playwright merge-reports --reporter=json\`
  --json <file>  a Playwright JSON report (--reporter=json, or merge-reports --reporter=json)
  --out <dir>    where to write summary.json, summary.md, index.html (default: ${DEFAULT_REPORT_DIR})

Exit codes: 0 written (whatever the verdicts: the gate judges them), 2 bad arguments, 3 the input
could not be read or merged.`;

class InputError extends Error {}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      blob: { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string', default: DEFAULT_REPORT_DIR },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (Boolean(values.blob) === Boolean(values.json)) {
    process.stderr.write(`report:matrix: give exactly one of --blob or --json.\n\n${HELP}\n`);
    return 2;
  }
  const report = values.blob ? mergeBlobs(values.blob) : readJsonFile(values.json!);
  const { outcomes, facts } = readJsonReport(
    report,
    values.json ? dirname(resolve(values.json)) : process.cwd(),
  );
  const summary = buildSummary(outcomes, { ...facts, gitSha: gitSha() }, secretValues());
  const paths = await writeReport(summary, values.out);
  process.stdout.write(renderTable(summary, { color: colorWanted() }));
  process.stdout.write(`Matrix report: ${paths.join(', ')}\n`);
  return 0;
}

function readJsonFile(path: string): JsonReport {
  if (!existsSync(path))
    throw new InputError(`report:matrix: ${path} does not exist; run Playwright with --reporter=json first.`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JsonReport;
  } catch (error) {
    throw new InputError(
      `report:matrix: ${path} is not a Playwright JSON report (${(error as Error).message}).`,
      {
        cause: error,
      },
    );
  }
}

function mergeBlobs(dir: string): JsonReport {
  if (!existsSync(dir))
    throw new InputError(
      `report:matrix: blob directory ${dir} does not exist; download every shard's blob-report into it.`,
    );
  const cli = createRequire(import.meta.url).resolve('@playwright/test/cli');
  const run = spawnSync(process.execPath, [cli, 'merge-reports', '--reporter=json', dir], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: '' },
  });
  if (run.status !== 0) {
    throw new InputError(
      `report:matrix: \`playwright merge-reports --reporter=json ${dir}\` exited ${run.status}: ${run.stderr.trim() || run.stdout.trim()}`,
    );
  }
  try {
    return JSON.parse(run.stdout) as JsonReport;
  } catch (error) {
    throw new InputError(
      `report:matrix: merge-reports printed no JSON report (${(error as Error).message}); stderr: ${run.stderr.trim()}`,
      {
        cause: error,
      },
    );
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof InputError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(3);
    }
    throw error;
  },
);
