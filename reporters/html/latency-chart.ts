import { formatMs } from '../format-ms.ts';
import type { SummaryCell } from '../summary-schema.ts';
import { esc } from './escape.ts';

/**
 * One inline SVG per cell: each latency sample as a bar, the budget as a red line, p50/p95 as dashed
 * lines. Inline so the page needs no script or network; the scale always includes the budget so a
 * glance tells how close the cell runs to it.
 */
const W = 320;
const H = 120;
const PAD = { left: 44, right: 8, top: 10, bottom: 18 };

export function latencyChart(cell: SummaryCell): string {
  const { samplesMs, budgetMs, p50, p95 } = cell.latency;
  if (samplesMs.length === 0) {
    return `<p class="muted">No latency samples: the cell ended before an event could be timed.</p>`;
  }
  const max = Math.max(budgetMs ?? 0, ...samplesMs) * 1.1 || 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const y = (ms: number) => PAD.top + plotH - (ms / max) * plotH;
  const barW = Math.max(2, plotW / samplesMs.length - 2);
  const bars = samplesMs
    .map((ms, i) => {
      const x = PAD.left + i * (plotW / samplesMs.length) + 1;
      const over = budgetMs !== null && ms > budgetMs;
      return `<rect class="${over ? 'bar over' : 'bar'}" x="${x.toFixed(1)}" y="${y(ms).toFixed(1)}" width="${barW.toFixed(1)}" height="${(PAD.top + plotH - y(ms)).toFixed(1)}"><title>sample ${i + 1}: ${esc(formatMs(ms))}</title></rect>`;
    })
    .join('');
  const hline = (ms: number, cls: string, label: string) =>
    `<line class="${cls}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(ms).toFixed(1)}" y2="${y(ms).toFixed(1)}"/>` +
    `<text class="axis" x="${PAD.left - 4}" y="${(y(ms) + 3).toFixed(1)}" text-anchor="end">${esc(label)}</text>`;
  const lines = [
    budgetMs !== null ? hline(budgetMs, 'budget', formatMs(budgetMs)) : '',
    p95 !== null ? hline(p95, 'pct', 'p95') : '',
    p50 !== null ? hline(p50, 'pct', 'p50') : '',
  ].join('');
  const title = `${cell.cell} latency: ${samplesMs.length} samples, p50 ${formatMs(p50)}, p95 ${formatMs(p95)}, budget ${formatMs(budgetMs)}`;
  return `<svg class="chart" role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" data-report="latency-${esc(cell.cell)}"><title>${esc(title)}</title><line class="axisline" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}"/><line class="axisline" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}"/>${bars}${lines}<text class="axis" x="${PAD.left}" y="${H - 4}">samples (budget in red)</text></svg>`;
}
