import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { CELL_ATTACHMENT, type CellResult } from '../fixtures/evidence.ts';
import type { CellOutcome, RunFacts } from './cell-outcome.ts';
import { matrixProjects } from './matrix-projects.ts';

/**
 * Reads a Playwright JSON report (`--reporter=json`, or `merge-reports --reporter=json` over the blob
 * reports of every shard) back into the reporter's outcomes, so the summary a merged run yields is the
 * one an unsharded run writes live. Only the fields used are typed here.
 */
interface JsonAttachment {
  name: string;
  contentType: string;
  path?: string;
  body?: string;
}
interface JsonResult {
  status: CellOutcome['status'];
  retry: number;
  duration: number;
  startTime?: string;
  error?: { message?: string };
  errors?: { message?: string }[];
  attachments: JsonAttachment[];
}
interface JsonTest {
  projectName: string;
  results: JsonResult[];
}
interface JsonSpec {
  title: string;
  file: string;
  tests: JsonTest[];
}
interface JsonSuite {
  title: string;
  file?: string;
  specs?: JsonSpec[];
  suites?: JsonSuite[];
}
export interface JsonReport {
  config: {
    version?: string;
    projects?: { name: string; metadata?: Record<string, unknown> }[];
    shard?: { current: number; total: number } | null;
    rootDir?: string;
  };
  suites: JsonSuite[];
  stats?: { startTime?: string; duration?: number };
}

export interface ReadReport {
  outcomes: CellOutcome[];
  facts: Omit<RunFacts, 'gitSha'>;
}

export function readJsonReport(report: JsonReport, baseDir: string = process.cwd()): ReadReport {
  const outcomes: CellOutcome[] = [];
  const visit = (suite: JsonSuite, titles: string[]) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        const last = test.results[test.results.length - 1];
        if (!last) continue;
        outcomes.push({
          project: test.projectName,
          title: [...titles, spec.title].filter(Boolean).join(' › '),
          file: spec.file,
          status: last.status,
          attempts: test.results.length,
          durationMs: last.duration,
          error: firstLine(last.error?.message ?? last.errors?.[0]?.message ?? null),
          cell: cellFrom(last.attachments, baseDir),
        });
      }
    }
    for (const child of suite.suites ?? []) visit(child, [...titles, child.title]);
  };
  for (const suite of report.suites) visit(suite, []);

  const started = report.stats?.startTime ?? new Date(0).toISOString();
  const finished = new Date(Date.parse(started) + (report.stats?.duration ?? 0)).toISOString();
  return {
    outcomes,
    facts: {
      startedAt: started,
      finishedAt: finished,
      shard: report.config.shard ?? null,
      source: 'json-report',
      projects: matrixProjects(report.config.projects ?? []),
      playwrightVersion: report.config.version ?? null,
    },
  };
}

function cellFrom(attachments: JsonAttachment[], baseDir: string): CellResult | null {
  const found = [...attachments].reverse().find((a) => a.name === CELL_ATTACHMENT);
  if (!found) return null;
  let text: string;
  if (found.body !== undefined) text = Buffer.from(found.body, 'base64').toString('utf8');
  else if (found.path)
    text = readFileSync(isAbsolute(found.path) ? found.path : resolve(baseDir, found.path), 'utf8');
  else return null;
  return parseCell(text, found.path ?? CELL_ATTACHMENT);
}

export function parseCell(text: string, where: string): CellResult {
  try {
    return JSON.parse(text) as CellResult;
  } catch (error) {
    throw new Error(
      `${where} is not valid JSON (${(error as Error).message}); the fixture that attached it wrote a broken CellResult`,
      {
        cause: error,
      },
    );
  }
}

export function firstLine(message: string | null): string | null {
  if (!message) return null;
  // Playwright error messages carry ANSI colour codes; reports are plain text.
  const plain = stripVTControlCharacters(message);
  return (
    plain
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? null
  );
}
