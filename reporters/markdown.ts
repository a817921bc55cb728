import { reportScope, tally } from '../fixtures/doctor/render.ts';
import type { DoctorReport } from '../fixtures/doctor/types.ts';
import { formatMs } from './format-ms.ts';
import { changesText } from './html/cell-detail.ts';
import type { Summary } from './summary-schema.ts';

/** `summary.md`: what CI shows as the job summary ($GITHUB_STEP_SUMMARY), GitHub-flavoured Markdown. */
export function renderMarkdown(summary: Summary): string {
  const { run, cells, diagnoses } = summary;
  const byKey = new Map(cells.map((c) => [`${c.portal}-${c.env}`, c]));
  const out: string[] = [
    `## Realtime matrix: ${run.totals.passed}/${run.totals.cells} cells passed`,
    '',
    `Run ${run.startedAt} to ${run.finishedAt}${run.gitSha ? `, commit \`${run.gitSha.slice(0, 12)}\`` : ''}${run.shard ? `, shard ${run.shard.current}/${run.shard.total}` : ''}.`,
    '',
    `| portal | ${run.envs.join(' | ')} |`,
    `| --- | ${run.envs.map(() => '---').join(' | ')} |`,
  ];
  for (const portal of run.portals) {
    const cols = run.envs.map((env) => {
      const c = byKey.get(`${portal}-${env}`);
      if (!c) return 'not run';
      const mark = c.passed ? '✅' : '❌';
      const l = c.latency;
      const latency = l.samplesMs.length ? ` p50 ${formatMs(l.p50)} / p95 ${formatMs(l.p95)}` : '';
      return `${mark} **${c.verdict}**${latency} (budget ${formatMs(l.budgetMs)}, ${c.targetKind})`;
    });
    out.push(`| ${portal} | ${cols.join(' | ')} |`);
  }
  for (const d of diagnoses) {
    const cell = cells.find((c) => c.cell === d.cell);
    out.push('', `### ❌ ${d.cell}: ${d.verdict}${d.fault ? ` (\`${d.fault}\`)` : ''}`, '');
    if (cell)
      out.push(`- **Changes:** ${escapeCell(changesText(cell))}`, `- **Cause:** ${escapeCell(cell.cause)}`);
    out.push(`- **Diagnosis:** ${escapeCell(d.headline)}`, `- **Next step:** ${escapeCell(d.nextStep)}`);
    if (d.differences.length > 0) {
      out.push('', '| differs | this cell | passing cells |', '| --- | --- | --- |');
      for (const x of d.differences)
        out.push(
          `| ${x.aspect} | \`${escapeCell(x.failing)}\` | ${x.passing.map((p) => `\`${escapeCell(p)}\``).join('<br>')} |`,
        );
    }
    if (cell?.doctor) out.push('', ...doctorSection(cell.doctor));
  }
  return `${out.join('\n')}\n`;
}

const MARK = { ok: '✅', warn: '⚠️', fail: '❌' } as const;

/**
 * The doctor's checks for a failing cell: what failed or warns, each with its next step, and the SQL
 * that would fix it in a block a reader can copy; the checks that held fold away under a details tag.
 */
function doctorSection(report: DoctorReport): string[] {
  const out = [`**Database checks:** ${escapeCell(reportScope(report))}: ${tally(report)}.`];
  const flagged = report.checks.filter((c) => c.status !== 'ok');
  if (flagged.length > 0) {
    out.push('', '| | check | finding | next step |', '| --- | --- | --- | --- |');
    for (const c of flagged)
      out.push(
        `| ${MARK[c.status]} | \`${c.id}\` | ${escapeCell(c.summary)} | ${escapeCell(c.nextStep ?? '')} |`,
      );
    for (const c of flagged.filter((f) => f.fixSql)) out.push('', ...sqlBlock(c.id, c.fixSql!));
  }
  if (report.skipped.length > 0) out.push('');
  for (const s of report.skipped) out.push(`- not checked: \`${escapeCell(s.check)}\`: ${escapeCell(s.why)}`);
  const held = report.checks.filter((c) => c.status === 'ok');
  if (held.length > 0) {
    out.push('', `<details><summary>${held.length} check${held.length === 1 ? '' : 's'} held</summary>`, '');
    for (const c of held) out.push(`- ${MARK.ok} \`${c.id}\`: ${escapeCell(c.summary)}`);
    out.push('', '</details>');
  }
  return out;
}

/** A fenced SQL block, its fence longer than any run of backticks in the SQL. */
function sqlBlock(id: string, sql: string): string[] {
  const longest = Math.max(0, ...[...sql.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}sql`, `-- fixes ${id} (review before running it)`, sql, fence];
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/`/g, "'").replace(/\n/g, ' ');
}
