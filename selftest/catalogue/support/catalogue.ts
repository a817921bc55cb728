import type { Stage, Verdict } from '../../../fixtures/evidence.ts';

/**
 * shared/FAILURES.md as the expectations of the catalogue run: each fault, the cell (or env) it is
 * switched on for, the verdict and failed stage the matrix must give, and the fault the cross-cell
 * diagnosis must name. The five causes the seeds suspected are all on agent-prod, one run each, so
 * each run is the seeds' case: agent-prod broken while the other five work.
 */
export interface CatalogueFault {
  fault: string;
  /** A cell, or an env for env-wide mechanisms. */
  target: string;
  verdict: Verdict;
  stage: Stage;
  /** The doctor finding the diagnosis must rest on, for causes the database names. */
  doctor?: string;
}

export interface CatalogueRun {
  label: string;
  faults: CatalogueFault[];
}

const STAGE_OF: Partial<Record<Verdict, Stage>> = {
  PORTAL_UNREACHABLE: 'portal_reachable',
  SIGN_IN_FAILED: 'signed_in',
  ROLE_REJECTED: 'signed_in',
  SOCKET_BLOCKED: 'socket_opened',
  SOCKET_REJECTED: 'socket_opened',
  JOINED_AS_ANON: 'socket_identity',
  JOIN_UNAUTHORIZED: 'channel_joined',
  JOIN_ERROR: 'channel_joined',
  JOIN_TIMEOUT: 'channel_joined',
  CHANGES_UNAVAILABLE: 'changes_ready',
  NO_EVENT: 'event_delivered',
  EVENT_LATE: 'on_time',
  DUPLICATE_EVENT: 'exactly_once',
  DUPLICATE_JOIN: 'exactly_once',
};

function f(fault: string, target: string, verdict: Verdict, doctor?: string): CatalogueFault {
  const stage = STAGE_OF[verdict];
  if (!stage) throw new Error(`No ladder stage for verdict ${verdict} (fault ${fault})`);
  return { fault, target, verdict, stage, ...(doctor ? { doctor } : {}) };
}

/** The seeds' suspects, in the order the seeds listed them. */
export const SEEDS_CELL = 'agent-prod';
export const SEEDS_CASE: CatalogueRun[] = [
  f('csp-blocks-socket', SEEDS_CELL, 'SOCKET_BLOCKED'),
  f('edge-drops-upgrade', SEEDS_CELL, 'SOCKET_REJECTED'),
  f('origin-not-allowed', SEEDS_CELL, 'SOCKET_REJECTED'),
  f('session-not-forwarded', SEEDS_CELL, 'JOINED_AS_ANON'),
  f('role-claim-missing', SEEDS_CELL, 'ROLE_REJECTED'),
].map((fault) => ({ label: `seeds-${fault.fault}`, faults: [fault] }));

/**
 * The rest of the catalogue in rounds of faults that cannot interfere (distinct cells, each round
 * keeping passing cells in both envs for the diagnosis to compare with); the env-wide one alone.
 */
export const ROUNDS: CatalogueRun[] = [
  {
    label: 'round-reach-key-token-join',
    faults: [
      f('portal-down', 'client-local', 'PORTAL_UNREACHABLE'),
      f('expired-token', 'agent-local', 'JOIN_ERROR'),
      f('join-unanswered', 'client-prod', 'JOIN_TIMEOUT'),
      f('bad-apikey', 'admin-prod', 'SOCKET_REJECTED'),
    ],
  },
  {
    label: 'round-delivery',
    faults: [
      f('rls-hides-rows', 'client-local', 'NO_EVENT', 'rls.row_hidden'),
      f('filter-mismatch', 'agent-local', 'NO_EVENT', 'filter.excludes_row'),
      f('slow-delivery', 'client-prod', 'EVENT_LATE'),
      f('duplicate-subscription', 'agent-prod', 'DUPLICATE_JOIN'),
    ],
  },
  {
    label: 'round-publication',
    faults: [f('table-not-published', 'local', 'CHANGES_UNAVAILABLE', 'publication.missing')],
  },
  // Database-level causes the frames alone cannot tell apart (all NO_EVENT): the doctor names them.
  {
    label: 'round-publish-insert',
    faults: [f('insert-not-published', 'prod', 'NO_EVENT', 'publication.no_insert')],
  },
  { label: 'round-select-grant', faults: [f('select-revoked', 'local', 'NO_EVENT', 'grant.table_select')] },
  {
    label: 'round-schema-usage',
    faults: [f('schema-usage-revoked', 'prod', 'NO_EVENT', 'grant.schema_usage')],
  },
];

/** The cells a fault's target covers (`local` → its three cells). */
export function cellsOf(target: string, cells: readonly string[]): string[] {
  return cells.includes(target) ? [target] : cells.filter((c) => c.endsWith(`-${target}`));
}
