import type { CellResult } from '../fixtures/evidence.ts';

/**
 * One matrix test as the reporter saw it, whether live (onTestEnd) or read back from a Playwright JSON
 * report: the CellResult it attached, if any, and Playwright's own facts about the final attempt.
 */
export interface CellOutcome {
  /** The Playwright project, `<portal>-<env>`. */
  project: string;
  title: string;
  file: string;
  status: 'passed' | 'failed' | 'timedOut' | 'skipped' | 'interrupted';
  attempts: number;
  durationMs: number;
  /** First line of the final attempt's error. */
  error: string | null;
  cell: CellResult | null;
}

export interface RunFacts {
  startedAt: string;
  finishedAt: string;
  gitSha: string | null;
  shard: { current: number; total: number } | null;
  source: 'live' | 'json-report';
  projects: string[];
  playwrightVersion: string | null;
}
