import { formatMs } from './format-ms.ts';
import type { Summary, SummaryCell } from './summary-schema.ts';

/**
 * The release gate's rules, apart from its CLI so they are testable as a function. A cell counts only
 * if it passed (verdict PASS), its p95 is within its budget, and (unless dry-running) its target was
 * external: the embedded stack proves the matrix works, not that a deployment does.
 */
export interface GateOptions {
  /** Required cells; default every matrix project the run's config declared. */
  required?: string[] | undefined;
  allowEmbedded: boolean;
}

export interface GateVerdict {
  outcome: 'pass' | 'failed' | 'embedded';
  /** One line per required cell, then any run-level reason. */
  lines: string[];
}

export function judgeGate(summary: Summary, options: GateOptions): GateVerdict {
  const required = options.required?.length
    ? options.required
    : summary.run.projects.length
      ? summary.run.projects
      : summary.cells.map((c) => c.cell);
  const byCell = new Map(summary.cells.map((c) => [c.cell, c]));
  let failed = false;
  let embedded = false;
  const lines: string[] = [];
  if (required.length === 0) {
    return {
      outcome: 'failed',
      lines: ['FAIL  the summary has no cells: nothing was tested, nothing can be released'],
    };
  }
  for (const name of required) {
    const cell = byCell.get(name);
    const problem = cell
      ? cellProblem(cell)
      : `did not run (not in the summary; ran: ${[...byCell.keys()].join(', ') || 'none'})`;
    if (problem) {
      failed = true;
      lines.push(`FAIL  ${name}: ${problem}`);
      continue;
    }
    const c = cell!;
    const latency = `p95 ${formatMs(c.latency.p95)} within ${formatMs(c.latency.budgetMs)}`;
    if (c.targetKind === 'embedded' && !options.allowEmbedded) {
      embedded = true;
      lines.push(
        `EMBED ${name}: passed (${latency}) but against the embedded stack; point ${c.env} at the real deployment (TARGET_KIND=external) or pass --allow-embedded for a dry run`,
      );
      continue;
    }
    lines.push(`PASS  ${name}: ${latency}, ${c.targetKind} target`);
  }
  return { outcome: failed ? 'failed' : embedded ? 'embedded' : 'pass', lines };
}

function cellProblem(cell: SummaryCell): string | null {
  if (cell.verdict !== 'PASS') {
    return `${cell.verdict}${cell.failedStage ? ` at ${cell.failedStage}` : ''}: ${cell.cause}`;
  }
  if (cell.recording === 'off') {
    return 'PASS with frame recording off (MATRIX_RECORD=0): the socket, identity, join and readiness stages were inferred from the page, not observed; rerun with recording on';
  }
  const { p95, budgetMs, samplesMs } = cell.latency;
  if (samplesMs.length === 0 || p95 === null)
    return 'PASS without a single latency sample: cannot show it is within budget';
  if (budgetMs === null) return 'no latency budget recorded';
  if (p95 > budgetMs)
    return `over budget: p95 ${formatMs(p95)} > ${formatMs(budgetMs)} (samples ${samplesMs.join(', ')} ms)`;
  return null;
}
