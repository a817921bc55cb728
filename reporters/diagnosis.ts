import { ASPECTS, type Aspect, DEFAULT_ORDER, reached } from './diagnosis-aspects.ts';
import { matchFault } from './fault-catalogue.ts';
import type { Diagnosis, Difference, SummaryCell } from './summary-schema.ts';

/**
 * Cross-cell diagnosis (issue 6): for each failing cell, what its evidence shows that the passing
 * cells' does not, most telling first, and the catalogue fault it matches. Pure over summary cells,
 * so `summary.json` alone is enough to rerun it.
 */
export function diagnose(cells: readonly SummaryCell[]): Diagnosis[] {
  const passing = cells.filter((c) => c.passed);
  return cells.filter((c) => !c.passed).map((cell) => diagnoseCell(cell, passing));
}

function diagnoseCell(cell: SummaryCell, passing: readonly SummaryCell[]): Diagnosis {
  // Cells of the same environment share the API host, CSP and keys, so they are the fair comparison;
  // with none passing there (an environment-wide fault), compare with every passing cell.
  const sameEnv = passing.filter((p) => p.env === cell.env);
  const peers = sameEnv.length > 0 ? sameEnv : passing;
  const match = matchFault(cell, peers);

  if (cell.verdict === 'NO_RESULT') {
    return {
      cell: cell.cell,
      verdict: cell.verdict,
      fault: null,
      headline: `${cell.cell}: no evidence recorded (${cell.test.status}); nothing to compare.`,
      differences: [],
      nextStep: cell.nextStep,
      doctorCause: null,
    };
  }

  const order = [...match.aspects, ...DEFAULT_ORDER.filter((a) => !match.aspects.includes(a))];
  const differences: Difference[] = [];
  for (const aspect of order) {
    if (!reached(cell, aspect)) continue;
    const comparable = peers.filter((p) => reached(p, aspect));
    if (comparable.length === 0) continue;
    const failing = ASPECTS[aspect].read(cell);
    const values = [...new Set(comparable.map((p) => ASPECTS[aspect].read(p)))];
    if (values.includes(failing)) continue;
    differences.push({
      aspect,
      failing,
      passing: values,
      comparedWith: comparable.map((p) => p.cell),
      note: noteFor(aspect, cell, sameEnv.length === 0),
    });
  }

  return {
    cell: cell.cell,
    verdict: cell.verdict,
    fault: match.fault,
    headline: headline(cell, match.fault, differences, peers, match.doctorCause?.summary),
    differences,
    nextStep: match.nextStep,
    doctorCause: match.doctorCause
      ? {
          id: match.doctorCause.id,
          summary: match.doctorCause.summary,
          fixSql: match.doctorCause.fixSql ?? null,
        }
      : null,
  };
}

function headline(
  cell: SummaryCell,
  fault: string | null,
  differences: readonly Difference[],
  peers: readonly SummaryCell[],
  doctor?: string,
): string {
  const what = `${fault ? `matches \`${fault}\`` : 'matches no catalogue fault'}${doctor ? `; the database says: ${doctor.replace(/\.$/, '')}` : ''}`;
  if (peers.length === 0) return `${cell.cell} ${cell.verdict} (${what}); no passing cell to compare with.`;
  const first = differences[0];
  if (!first)
    return `${cell.cell} ${cell.verdict} (${what}); its evidence shows no difference from ${peerList(peers)} up to ${cell.stageReached ?? 'the first stage'}.`;
  const rest = differences.length - 1;
  const more = rest > 0 ? `, and ${rest} more difference${rest === 1 ? '' : 's'}` : '';
  return `${cell.cell} ${cell.verdict} (${what}): ${LABEL[first.aspect]} "${first.failing}" here, "${first.passing.join('" / "')}" in ${peerList(peers)}${more}.`;
}

function peerList(peers: readonly SummaryCell[]): string {
  return peers.length <= 3 ? peers.map((p) => p.cell).join(', ') : `the ${peers.length} passing cells`;
}

const LABEL: Record<Aspect, string> = {
  portal: 'portal page',
  sign_in: 'signed-in session',
  origin: 'origin',
  socket_url: 'socket URL',
  handshake: 'handshake',
  csp_connect_src: 'CSP connect-src',
  join_identity: 'identity in phx_join',
  subscription: 'subscription',
  join_reply: 'join reply',
  system_message: 'system messages',
  events: 'events',
  latency: 'latency',
};

function noteFor(aspect: Aspect, cell: SummaryCell, crossEnv: boolean): string {
  const across = crossEnv
    ? ` Compared across environments (no ${cell.env} cell passed), so host and scheme differ by design.`
    : '';
  switch (aspect) {
    case 'join_identity':
      return `Realtime authorizes the channel with the phx_join access_token, not the URL apikey.${across}`;
    case 'csp_connect_src':
      return `The browser refuses a socket whose origin is not in connect-src, before any handshake.${across}`;
    case 'socket_url':
      return `apikey shown as role and fingerprint; a different fingerprint is a different key.${across}`;
    case 'handshake':
      return `A healthy upgrade answers 101.${across}`;
    default:
      return `The ${LABEL[aspect]} differs.${across}`;
  }
}
