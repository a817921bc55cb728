import type { CellResult } from '../fixtures/evidence.ts';

/**
 * A cell's ladder and frame log as plain text, for places that show text attachments (Allure, CI
 * logs). The input is already redacted; callers redact again before writing.
 */
export function ladderText(cell: CellResult): string {
  const lines = [
    `${cell.cell}: ${cell.verdict}${cell.failedStage ? ` at ${cell.failedStage}` : ''} (${cell.targetKind} target)`,
    `cause: ${cell.cause}`,
    `next:  ${cell.nextStep}`,
    '',
  ];
  cell.stages.forEach((s, i) => {
    const mark = s.status === 'passed' ? 'ok  ' : s.status === 'failed' ? 'FAIL' : '--  ';
    const at = s.atMs !== undefined ? ` +${Math.round(s.atMs)}ms` : '';
    lines.push(`${String(i + 1).padStart(2)}. ${mark} ${s.stage}${at}: ${s.summary}`);
  });
  lines.push('', `portal:    ${cell.portalUrl}`, `socket:    ${cell.socketUrl ?? 'no socket opened'}`);
  if (cell.handshake)
    lines.push(
      `handshake: ${cell.handshake.outcome}${cell.handshake.status ? ` ${cell.handshake.status}` : ''}${cell.handshake.body ? ` ${cell.handshake.body}` : ''}`,
    );
  for (const id of cell.identities) {
    lines.push(
      `identity:  ${id.source}: ${id.kind}${id.role ? ` role=${id.role}` : ''}${id.userRole ? ` user_role=${id.userRole}` : ''}${id.email ? ` ${id.email}` : ''}${id.fingerprint ? ` fp ${id.fingerprint}` : ''}`,
    );
  }
  const l = cell.latency;
  lines.push(
    `latency:   samples [${l.samplesMs.join(', ')}] ms, p50 ${l.p50 ?? '-'}, p95 ${l.p95 ?? '-'}, budget ${l.budgetMs} ms`,
  );
  return `${lines.join('\n')}\n`;
}

export function frameLog(cell: CellResult): string {
  if (cell.frames.length === 0) return 'no WebSocket frames recorded\n';
  return `${cell.frames
    .map((f) => {
      const arrow = f.direction === 'sent' ? '->' : '<-';
      const body = f.payload !== undefined ? JSON.stringify(f.payload) : (f.raw ?? '');
      return `+${Math.round(f.atMs)}ms ${arrow} [${f.joinRef ?? 'null'},${f.ref ?? 'null'}] ${f.topic ?? '?'} ${f.event ?? '?'} ${body}`;
    })
    .join('\n')}\n`;
}
