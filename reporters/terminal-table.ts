import { formatMs } from './format-ms.ts';
import type { Summary, SummaryCell } from './summary-schema.ts';

/**
 * The portal x env table printed at the end of every run. Plain ASCII columns so CI logs stay
 * aligned; colour only when asked (a TTY without NO_COLOR), never baked into files.
 */
export interface TableOptions {
  color: boolean;
}

export function colorWanted(stream: { isTTY?: boolean } = process.stdout, env = process.env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

export function renderTable(summary: Summary, options: TableOptions): string {
  const { run, cells } = summary;
  const paint = painter(options.color);
  const byKey = new Map(cells.map((c) => [`${c.portal}-${c.env}`, c]));
  const header = ['portal', ...run.envs];
  const rows = run.portals.map((portal) => [
    portal,
    ...run.envs.map((env) => {
      const cell = byKey.get(`${portal}-${env}`);
      return cell ? cellText(cell) : 'not run';
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[], colour = false) =>
    cols
      .map((text, i) => {
        const padded = text.padEnd(widths[i]!);
        if (!colour || i === 0) return padded;
        return text.startsWith('PASS')
          ? paint.green(padded)
          : text === 'not run'
            ? paint.dim(padded)
            : paint.red(padded);
      })
      .join('  ')
      .trimEnd();

  const sha = run.gitSha ? `, ${run.gitSha.slice(0, 12)}` : '';
  const shard = run.shard ? `, shard ${run.shard.current}/${run.shard.total}` : '';
  const out = [
    `Realtime matrix: ${run.totals.passed}/${run.totals.cells} cells passed (${run.startedAt}${sha}${shard})`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(r, true)),
  ];
  const failing = cells.filter((c) => !c.passed);
  if (failing.length > 0) out.push('');
  for (const cell of failing) {
    const diagnosis = summary.diagnoses.find((d) => d.cell === cell.cell);
    out.push(paint.red(`x ${cell.cell} ${cell.verdict}${cell.failedStage ? ` at ${cell.failedStage}` : ''}`));
    out.push(`    cause:     ${cell.cause}`);
    if (diagnosis) {
      out.push(`    diagnosis: ${diagnosis.headline}`);
      out.push(`    next:      ${diagnosis.nextStep}`);
    } else out.push(`    next:      ${cell.nextStep}`);
  }
  return `${out.join('\n')}\n`;
}

/** "PASS  p50 47 ms  p95 62 ms  budget 1.00 s  embedded" */
export function cellText(cell: SummaryCell): string {
  const l = cell.latency;
  const latency = l.samplesMs.length > 0 ? `p50 ${formatMs(l.p50)}  p95 ${formatMs(l.p95)}` : 'no samples';
  return `${cell.verdict}  ${latency}  budget ${formatMs(l.budgetMs)}  ${cell.targetKind}`;
}

function painter(on: boolean) {
  const wrap = (code: number) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { red: wrap(31), green: wrap(32), dim: wrap(2) };
}
