import type { Summary } from '../summary-schema.ts';
import { cellDetail } from './cell-detail.ts';
import { anchor, esc } from './escape.ts';
import { heatmap } from './heatmap.ts';
import { STYLES } from './styles.ts';

/**
 * `matrix-report/index.html`: one self-contained file (inline CSS and SVG, no script, no network) so it
 * opens from a CI artifact on any machine. Rendered from the summary alone.
 */
export function renderHtml(summary: Summary): string {
  const { run } = summary;
  const failing = summary.cells.filter((c) => !c.passed);
  const diagnoses = summary.diagnoses
    .map(
      (d) =>
        `<li><a href="#${anchor(d.cell)}"><strong>${esc(d.cell)}</strong></a> ${esc(d.verdict)}${d.fault ? ` <code>${esc(d.fault)}</code>` : ''}: ${esc(d.headline)}</li>`,
    )
    .join('');
  const meta = [
    `${run.startedAt} → ${run.finishedAt}`,
    run.gitSha ? `commit ${run.gitSha.slice(0, 12)}` : null,
    run.shard ? `shard ${run.shard.current}/${run.shard.total}` : null,
    run.playwrightVersion ? `Playwright ${run.playwrightVersion}` : null,
    `summary v${summary.version}`,
  ]
    .filter(Boolean)
    .join(' · ');
  const cells = summary.cells
    .map((c) =>
      cellDetail(
        c,
        summary.diagnoses.find((d) => d.cell === c.cell),
      ),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Realtime matrix: ${run.totals.passed}/${run.totals.cells} passed</title><style>${STYLES}</style></head>
<body>
<h1 data-report="title">Realtime matrix: ${run.totals.passed}/${run.totals.cells} cells passed</h1>
<p class="muted">${esc(meta)}</p>
${heatmap(summary)}
${failing.length ? `<h2>What broke</h2><ul class="diagnoses" data-report="diagnoses">${diagnoses}</ul>` : '<h2>Every cell passed</h2>'}
<h2>Cells</h2>
${cells}
</body></html>
`;
}
