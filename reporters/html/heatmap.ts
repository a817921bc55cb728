import { formatMs } from '../format-ms.ts';
import type { Summary } from '../summary-schema.ts';
import { anchor, esc } from './escape.ts';

/** Portal rows x env columns, each cell coloured by outcome and linking to its ladder below. */
export function heatmap(summary: Summary): string {
  const byKey = new Map(summary.cells.map((c) => [`${c.portal}-${c.env}`, c]));
  const head = summary.run.envs.map((env) => `<th scope="col">${esc(env)}</th>`).join('');
  const rows = summary.run.portals
    .map((portal) => {
      const tds = summary.run.envs
        .map((env) => {
          const c = byKey.get(`${portal}-${env}`);
          if (!c) return `<td class="hm notrun" data-cell="${esc(`${portal}-${env}`)}">not run</td>`;
          const cls = c.passed ? 'pass' : 'fail';
          const latency =
            c.latency.p95 !== null
              ? `p95 ${formatMs(c.latency.p95)} / ${formatMs(c.latency.budgetMs)}`
              : '&nbsp;';
          return `<td class="hm ${cls}" data-cell="${esc(c.cell)}" data-verdict="${esc(c.verdict)}"><a href="#${anchor(c.cell)}"><strong>${esc(c.verdict)}</strong><span>${c.failedStage ? esc(c.failedStage) : latency}</span><span class="kind">${esc(c.targetKind)}</span></a></td>`;
        })
        .join('');
      return `<tr><th scope="row">${esc(portal)}</th>${tds}</tr>`;
    })
    .join('');
  return `<table class="heatmap" data-report="heatmap"><thead><tr><th></th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}
