import type {
  FullConfig,
  FullResult,
  Reporter,
  Suite,
  TestCase,
  TestResult,
} from '@playwright/test/reporter';
import { buildSummary } from './build-summary.ts';
import { cellOf } from './cell-attachment.ts';
import type { CellOutcome } from './cell-outcome.ts';
import { gitSha } from './git-sha.ts';
import { secretValues } from './known-secrets.ts';
import { matrixProjects } from './matrix-projects.ts';
import { firstLine } from './read-json-report.ts';
import { colorWanted, renderTable } from './terminal-table.ts';
import { DEFAULT_REPORT_DIR, writeReport } from './write-report.ts';

export interface MatrixReporterOptions {
  /** Where summary.json, summary.md and index.html go (default `matrix-report`). */
  outputDir?: string;
}

/**
 * The matrix's own reporter: collects each test's `matrix-cell.json` attachment and, at the end of the
 * run, prints the portal x env table and writes the summary, its Markdown and the HTML page. Works the
 * same under `npx playwright merge-reports --reporter=./reporters/matrix-reporter.ts`, which replays
 * every shard's results (with attachments) through it.
 */
export default class MatrixReporter implements Reporter {
  private readonly outputDir: string;
  private config: FullConfig | undefined;
  private startedAt = new Date();
  private readonly outcomes = new Map<string, CellOutcome>();

  constructor(options: MatrixReporterOptions = {}) {
    this.outputDir = options.outputDir ?? process.env['MATRIX_REPORT_DIR'] ?? DEFAULT_REPORT_DIR;
  }

  printsToStdio(): boolean {
    return true;
  }

  onBegin(config: FullConfig, _suite: Suite): void {
    this.config = config;
    this.startedAt = new Date();
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const project = test.parent.project()?.name ?? '';
    // Keyed by test id: a retry replaces the earlier attempt, the last one is the cell's answer.
    this.outcomes.set(test.id, {
      project,
      title: test.titlePath().slice(3).join(' › ') || test.title,
      file: test.location.file,
      status: result.status,
      attempts: result.retry + 1,
      durationMs: result.duration,
      error: firstLine(result.error?.message ?? null),
      cell: cellOf(result),
    });
  }

  async onEnd(result: FullResult): Promise<void> {
    // `--list`, or a run stopped before any test: keep the last real report rather than an empty one.
    if (this.outcomes.size === 0) {
      process.stdout.write(`\nMatrix report: no test ran; ${this.outputDir}/ left as it was.\n`);
      return;
    }
    const config = this.config;
    const projects = config ? matrixProjects(config.projects) : [];
    const outcomes = [...this.outcomes.values()].filter(
      (o) => o.cell !== null || projects.includes(o.project),
    );
    const summary = buildSummary(
      outcomes,
      {
        startedAt: this.startedAt.toISOString(),
        finishedAt: new Date(this.startedAt.getTime() + result.duration).toISOString(),
        gitSha: gitSha(config?.rootDir),
        shard: config?.shard ?? null,
        source: 'live',
        projects,
        playwrightVersion: config?.version ?? null,
      },
      secretValues(),
    );
    const paths = await writeReport(summary, this.outputDir);
    process.stdout.write(`\n${renderTable(summary, { color: colorWanted() })}`);
    process.stdout.write(`Matrix report: ${paths.join(', ')}\n`);
  }
}
