import { reportScope, tally } from '../../fixtures/doctor/render.ts';
import type { DoctorReport } from '../../fixtures/doctor/types.ts';
import { esc, json } from './escape.ts';

/**
 * The doctor's database checks for a failing cell, in the report's order: each check's status and
 * finding; for one that failed or warns, its next step
 * and the SQL that would fix it; then what could not be checked, and why. The catalog values each
 * finding rests on fold under it. The status and check columns have fixed widths and the finding
 * takes the rest (styles.ts), so a long SQL line or catalog value cannot widen the page.
 */
export function doctorBlock(cell: string, report: DoctorReport): string {
  const rows = report.checks
    .map(
      (c) =>
        `<tr class="check ${esc(c.status)}" data-check="${esc(c.id)}"><td class="st">${esc(c.status)}</td><td><code>${esc(c.id)}</code></td><td>${esc(c.summary)}${
          c.status !== 'ok' && c.nextStep
            ? `<div class="next"><strong>Next step:</strong> ${esc(c.nextStep)}</div>`
            : ''
        }${c.status !== 'ok' && c.fixSql ? `<pre class="sql">${esc(c.fixSql)}</pre>` : ''}${
          Object.keys(c.seen).length
            ? `<details><summary>seen</summary><pre>${json(c.seen)}</pre></details>`
            : ''
        }</td></tr>`,
    )
    .join('');
  const skipped = report.skipped
    .map(
      (s) =>
        `<tr class="check skipped" data-check="${esc(s.check)}"><td class="st">not checked</td><td><code>${esc(s.check)}</code></td><td>${esc(s.why)}</td></tr>`,
    )
    .join('');
  return `<div class="doctor" data-report="doctor-${esc(cell)}"><h4>Database checks <span class="muted">${esc(reportScope(report))}: ${esc(tally(report))}</span></h4>${
    rows || skipped
      ? `<table class="grid checks"><colgroup><col class="st"><col class="id"><col></colgroup><thead><tr><th>status</th><th>check</th><th>finding</th></tr></thead><tbody>${rows}${skipped}</tbody></table>`
      : ''
  }</div>`;
}
