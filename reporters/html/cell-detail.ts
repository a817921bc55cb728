import type { Diagnosis, SummaryCell } from '../summary-schema.ts';
import { doctorBlock } from './doctor.ts';
import { anchor, esc, json } from './escape.ts';
import { latencyChart } from './latency-chart.ts';

/**
 * One cell's section: verdict and cause, its diagnosis, the ladder stage by stage, then the evidence a
 * person needs to check the verdict themselves (the doctor's database checks when it ran, socket URL,
 * handshake, decoded identities, join reply, system messages, frames). Failing cells are open; passing ones fold away.
 */
export function cellDetail(cell: SummaryCell, diagnosis: Diagnosis | undefined): string {
  const status = cell.passed ? 'pass' : 'fail';
  return `<section class="cell ${status}" id="${anchor(cell.cell)}" data-report="${esc(anchor(cell.cell))}">
<details${cell.passed ? '' : ' open'}>
<summary><span class="badge ${status}">${esc(cell.verdict)}</span> <strong>${esc(cell.cell)}</strong> <span class="muted">${esc(cell.targetKind)} target${cell.failedStage ? `, failed at ${esc(cell.failedStage)}` : ''}</span></summary>
<p class="cause">${esc(cell.cause)}</p>
<p class="next"><strong>Next step:</strong> ${esc(diagnosis?.nextStep ?? cell.nextStep)}</p>
${diagnosis ? diagnosisBlock(diagnosis) : ''}
${cell.doctor ? doctorBlock(cell.cell, cell.doctor) : ''}
<div class="cols"><div>${ladder(cell)}</div><div>${latencyChart(cell)}${facts(cell)}</div></div>
${identities(cell)}
${evidenceBlocks(cell)}
${frames(cell)}
</details>
</section>`;
}

function diagnosisBlock(d: Diagnosis): string {
  const rows = d.differences
    .map(
      (x) =>
        `<tr><th scope="row">${esc(x.aspect)}</th><td><code>${esc(x.failing)}</code></td><td>${x.passing.map((p) => `<code>${esc(p)}</code>`).join('<br>')}</td><td class="muted">${esc(x.comparedWith.join(', '))}</td></tr>`,
    )
    .join('');
  return `<div class="diagnosis" data-report="diagnosis-${esc(d.cell)}"><p><strong>Diagnosis${d.fault ? `: <code>${esc(d.fault)}</code>` : ''}</strong> ${esc(d.headline)}</p>${
    rows
      ? `<table class="grid"><thead><tr><th>differs</th><th>this cell</th><th>passing cells</th><th>compared with</th></tr></thead><tbody>${rows}</tbody></table>`
      : ''
  }</div>`;
}

function ladder(cell: SummaryCell): string {
  if (cell.stages.length === 0) return '<p class="muted">No ladder: the test recorded no evidence.</p>';
  const items = cell.stages
    .map(
      (s, i) =>
        `<li class="stage ${esc(s.status)}" data-stage="${esc(s.stage)}"><span class="n">${i + 1}</span> <strong>${esc(s.stage)}</strong> <span class="st">${esc(s.status.replace('_', ' '))}</span>${s.atMs !== undefined ? ` <span class="muted">+${Math.round(s.atMs)} ms</span>` : ''}<div>${esc(s.summary)}</div>${
          Object.keys(s.evidence).length
            ? `<details><summary>evidence</summary><pre>${json(s.evidence)}</pre></details>`
            : ''
        }</li>`,
    )
    .join('');
  return `<ol class="ladder" data-report="ladder-${esc(cell.cell)}">${items}</ol>`;
}

function facts(cell: SummaryCell): string {
  const rows: [string, string][] = [
    ['portal', cell.portalUrl ?? '–'],
    ['changes', changesText(cell)],
    ['socket URL', cell.socketUrl ?? 'no socket opened'],
    [
      'handshake',
      cell.handshake
        ? `${cell.handshake.outcome}${cell.handshake.status ? ` ${cell.handshake.status}` : ''}${cell.handshake.body ? ` ${cell.handshake.body}` : ''}`
        : '–',
    ],
    ['CSP connect-src', cell.cspConnectSrc?.join(' ') ?? 'no CSP'],
    [
      'events',
      `matched ${cell.events.matched}, duplicates ${cell.events.duplicates}, joins ${JSON.stringify(cell.events.joinsPerTopic)}`,
    ],
    [
      'versions',
      Object.entries(cell.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '–',
    ],
    ['test', `${cell.test.status}, ${cell.test.attempts} attempt(s), ${Math.round(cell.test.durationMs)} ms`],
  ];
  return `<table class="facts">${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function identities(cell: SummaryCell): string {
  if (cell.identities.length === 0) return '';
  const rows = cell.identities
    .map(
      (i) =>
        `<tr><td>${esc(i.source)}</td><td>${esc(i.kind)}</td><td>${esc(i.role ?? '')}</td><td>${esc(i.userRole ?? '')}</td><td>${esc(i.email ?? i.sub ?? '')}</td><td>${i.exp ? esc(new Date(i.exp * 1000).toISOString()) : ''}</td><td><code>${esc(i.fingerprint ?? '')}</code></td></tr>`,
    )
    .join('');
  return `<h4>Identities on the socket (decoded, signatures removed)</h4><table class="grid" data-report="identities-${esc(cell.cell)}"><thead><tr><th>seen in</th><th>kind</th><th>role</th><th>user_role</th><th>user</th><th>exp</th><th>fingerprint</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function evidenceBlocks(cell: SummaryCell): string {
  const blocks: string[] = [];
  if (cell.joinReply)
    blocks.push(`<details><summary>join reply</summary><pre>${json(cell.joinReply)}</pre></details>`);
  if (cell.systemMessages.length)
    blocks.push(
      `<details open><summary>system messages (${cell.systemMessages.length})</summary><pre>${json(cell.systemMessages)}</pre></details>`,
    );
  if (cell.consoleErrors.length)
    blocks.push(
      `<details open><summary>console errors (${cell.consoleErrors.length})</summary><pre>${esc(cell.consoleErrors.join('\n'))}</pre></details>`,
    );
  if (cell.csp)
    blocks.push(`<details><summary>Content-Security-Policy</summary><pre>${esc(cell.csp)}</pre></details>`);
  return blocks.join('\n');
}

function frames(cell: SummaryCell): string {
  if (cell.frames.length === 0) return '<p class="muted">No WebSocket frames recorded.</p>';
  const rows = cell.frames
    .map(
      (f) =>
        `<tr class="${esc(f.direction)}"><td>${Math.round(f.atMs)}</td><td>${f.direction === 'sent' ? '→' : '←'}</td><td>${esc(f.topic ?? '')}</td><td>${esc(f.event ?? '')}</td><td>${esc(f.joinRef ?? '')}/${esc(f.ref ?? '')}</td><td><code>${esc(truncate(f.payload !== undefined ? JSON.stringify(f.payload) : (f.raw ?? ''), 400))}</code></td></tr>`,
    )
    .join('');
  return `<details${cell.passed ? '' : ' open'}><summary>frames (${cell.frames.length})</summary><table class="grid frames" data-report="frames-${esc(cell.cell)}"><thead><tr><th>ms</th><th></th><th>topic</th><th>event</th><th>join_ref/ref</th><th>payload</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** How the cell's change travels and who wrote it, in one line. */
export function changesText(cell: SummaryCell): string {
  const c = cell.changes;
  const how = !c
    ? '–'
    : c.kind === 'broadcast'
      ? `Broadcast from Database on ${c.topic} (${c.private ? 'private' : 'public'}, event ${c.event ?? 'the operation'})`
      : `postgres_changes on ${cell.table ? `${cell.table.schema}.${cell.table.name}` : 'the table'}`;
  return `${how}${cell.channelTopic ? `; channel ${cell.channelTopic}` : ''}${cell.writeAs ? `; rows written by ${cell.writeAs === 'user' ? "the portal's user" : 'the service role'}` : ''}`;
}
