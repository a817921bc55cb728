import { formatMs } from './format-ms.ts';
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
    if (cell) out.push(`- **Cause:** ${escapeCell(cell.cause)}`);
    out.push(`- **Diagnosis:** ${escapeCell(d.headline)}`, `- **Next step:** ${escapeCell(d.nextStep)}`);
    if (d.differences.length > 0) {
      out.push('', '| differs | this cell | passing cells |', '| --- | --- | --- |');
      for (const x of d.differences)
        out.push(
          `| ${x.aspect} | \`${escapeCell(x.failing)}\` | ${x.passing.map((p) => `\`${escapeCell(p)}\``).join('<br>')} |`,
        );
    }
  }
  return `${out.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/`/g, "'").replace(/\n/g, ' ');
}
