import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult } from '../../../fixtures/evidence.ts';
import type { CellOutcome, RunFacts } from '../../../reporters/cell-outcome.ts';

/**
 * Recorded CellResults (selftest/report/recorded/): a healthy six-cell run in `pass/`, and per
 * catalogue fault the cells that fault turns red in `faults/<fault>/`. A run with a fault is the
 * healthy run with those cells replaced, as the matrix would produce it.
 */
const DIR = join(import.meta.dirname, '..', 'recorded');
export const PROJECTS = [
  'client-local',
  'client-prod',
  'agent-local',
  'agent-prod',
  'admin-local',
  'admin-prod',
];

export function faultNames(): string[] {
  return readdirSync(join(DIR, 'faults')).sort();
}

export function recordedCell(path: string): CellResult {
  return JSON.parse(readFileSync(join(DIR, path), 'utf8')) as CellResult;
}

/**
 * Recorded from the real matrix against one embedded stack: healthy (`real/pass/`), then with each
 * catalogue fault switched on through the stack's fault controller (`real/faults/<fault>/`).
 */
export function realRun(...faults: string[]): CellOutcome[] {
  const cells = new Map(PROJECTS.map((p) => [p, recordedCell(join('real', 'pass', `${p}.json`))]));
  for (const fault of faults) {
    for (const file of readdirSync(join(DIR, 'real', 'faults', fault))) {
      cells.set(file.replace(/\.json$/, ''), recordedCell(join('real', 'faults', fault, file)));
    }
  }
  return PROJECTS.map((project) => outcome(cells.get(project)!));
}

/** The healthy run, with each named fault's recorded cells swapped in. */
export function recordedRun(...faults: string[]): CellOutcome[] {
  const cells = new Map(PROJECTS.map((p) => [p, recordedCell(join('pass', `${p}.json`))]));
  for (const fault of faults) {
    for (const file of readdirSync(join(DIR, 'faults', fault))) {
      cells.set(file.replace(/\.json$/, ''), recordedCell(join('faults', fault, file)));
    }
  }
  return PROJECTS.map((project) => outcome(cells.get(project)!));
}

export function outcome(cell: CellResult): CellOutcome {
  const passed = cell.verdict === 'PASS';
  return {
    project: cell.cell,
    title: 'realtime: postgres_changes reach the signed-in portal',
    file: 'tests/realtime.spec.ts',
    status: passed ? 'passed' : 'failed',
    attempts: 1,
    durationMs: Date.parse(cell.finishedAt) - Date.parse(cell.startedAt),
    error: passed ? null : `${cell.cell}: ${cell.verdict} at ${cell.failedStage}: ${cell.cause}`,
    cell,
  };
}

export const RUN_FACTS: RunFacts = {
  startedAt: '2026-11-23T00:39:58.000Z',
  finishedAt: '2026-11-23T00:40:09.000Z',
  gitSha: '0123456789abcdef0123456789abcdef01234567',
  shard: null,
  source: 'live',
  projects: PROJECTS,
  playwrightVersion: '1.64.1',
};
