import { describe, expect, it } from 'vitest';
import { buildSummary } from '../../reporters/build-summary.ts';
import { renderTable } from '../../reporters/terminal-table.ts';
import { PROJECTS, RUN_FACTS, realRun } from './support/recorded.ts';

/**
 * CellResults the real matrix produced (`npx playwright test` against one embedded stack, healthy and
 * then with each fault of shared/FAILURES.md switched on by its real mechanism).
 */
describe('real recordings', () => {
  it('the healthy run: six PASS cells with real latencies, budgets and identities', () => {
    const summary = buildSummary(realRun(), RUN_FACTS);
    expect(summary.cells.map((c) => `${c.cell}:${c.verdict}:${c.passed}`)).toEqual(
      PROJECTS.map((p) => `${p}:PASS:true`),
    );
    for (const cell of summary.cells) {
      expect(cell.latency.samplesMs.length).toBeGreaterThan(0);
      expect(cell.latency.withinBudget).toBe(true);
      expect(cell.identities.find((i) => i.source === 'join_access_token')).toMatchObject({
        role: 'authenticated',
        userRole: cell.portal,
      });
      expect(cell.socketUrl).toMatch(/apikey=<anon key [0-9a-f]{8}>/);
    }
    expect(summary.diagnoses).toEqual([]);
    expect(renderTable(summary, { color: false })).toContain('Realtime matrix: 6/6 cells passed');
  });

  /** fault → failing cell, its verdict, the catalogue fault named, the aspect leading the differences. */
  const REAL: [string, string, string, string, string][] = [
    ['portal-down', 'admin-prod', 'PORTAL_UNREACHABLE', 'portal-down', 'portal'],
    ['role-claim-missing', 'agent-local', 'ROLE_REJECTED', 'role-claim-missing', 'sign_in'],
    ['csp-blocks-socket', 'client-prod', 'SOCKET_BLOCKED', 'csp-blocks-socket', 'csp_connect_src'],
    ['edge-drops-upgrade', 'admin-prod', 'SOCKET_REJECTED', 'edge-drops-upgrade', 'handshake'],
    ['origin-not-allowed', 'client-prod', 'SOCKET_REJECTED', 'origin-not-allowed', 'handshake'],
    ['bad-apikey', 'agent-prod', 'SOCKET_REJECTED', 'bad-apikey', 'socket_url'],
    ['session-not-forwarded', 'agent-prod', 'JOINED_AS_ANON', 'session-not-forwarded', 'join_identity'],
    ['expired-token', 'agent-local', 'JOIN_ERROR', 'expired-token', 'join_reply'],
    ['join-unanswered', 'admin-local', 'JOIN_TIMEOUT', 'join-unanswered', 'join_reply'],
    ['table-not-published', 'agent-prod', 'CHANGES_UNAVAILABLE', 'table-not-published', 'system_message'],
    ['rls-hides-rows', 'admin-local', 'NO_EVENT', 'rls-hides-rows', 'events'],
    ['filter-mismatch', 'client-local', 'NO_EVENT', 'filter-mismatch', 'subscription'],
    ['slow-delivery', 'admin-prod', 'EVENT_LATE', 'slow-delivery', 'latency'],
    ['duplicate-subscription', 'client-local', 'DUPLICATE_JOIN', 'duplicate-subscription', 'subscription'],
  ];

  it.each(REAL)('%s: %s ends %s, diagnosed as %s led by %s', (fault, cell, verdict, named, aspect) => {
    const summary = buildSummary(realRun(fault), RUN_FACTS);
    expect(summary.cells.find((c) => c.cell === cell)!.verdict).toBe(verdict);
    const diagnosis = summary.diagnoses.find((d) => d.cell === cell)!;
    expect(diagnosis.fault).toBe(named);
    expect(diagnosis.differences[0]!.aspect).toBe(aspect);
  });

  it("the seeds' case, recorded: agent-prod joins without the user's token while five cells pass", () => {
    const summary = buildSummary(realRun('session-not-forwarded'), RUN_FACTS);
    expect(summary.cells.filter((c) => c.passed)).toHaveLength(5);
    const [d] = summary.diagnoses;
    expect(d!.differences.map((x) => [x.aspect, x.failing, x.passing, x.comparedWith])).toEqual([
      [
        'join_identity',
        'no access_token in phx_join (claims come from the URL apikey)',
        ['role=authenticated, user_role={portal}'],
        ['client-prod', 'admin-prod'],
      ],
    ]);
  });
});

describe('real recordings with the doctor', () => {
  // One run (`RTM_FAULTS=prod:select-revoked npx playwright test`): all six cells from one stack, the
  // prod cells carrying the doctor's report the failing cell's seam produced over the database.
  it('select-revoked: every prod cell NO_EVENT, the grant named as the cause with its SQL, local green', () => {
    const summary = buildSummary(realRun('select-revoked'), RUN_FACTS);
    expect(summary.cells.map((c) => `${c.cell}:${c.verdict}`)).toEqual([
      'client-local:PASS',
      'client-prod:NO_EVENT',
      'agent-local:PASS',
      'agent-prod:NO_EVENT',
      'admin-local:PASS',
      'admin-prod:NO_EVENT',
    ]);
    for (const d of summary.diagnoses) {
      const cell = summary.cells.find((c) => c.cell === d.cell)!;
      expect(cell.doctor?.source).toBe('database');
      expect(cell.doctor!.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([
        'grant.table_select',
      ]);
      expect(d.fault).toBe('select-revoked');
      expect(d.doctorCause).toMatchObject({
        id: 'grant.table_select',
        fixSql: 'grant select on public.tickets to authenticated;',
      });
      expect(d.nextStep).toContain('grant select on public.tickets to authenticated;');
    }
    expect(summary.cells.filter((c) => c.passed).every((c) => c.doctor === null)).toBe(true);
  });
});

describe('real recordings, alone', () => {
  it('a CSP-blocked cell with no passing peer still gets the exact origin to add', () => {
    const alone = realRun('csp-blocks-socket').filter((o) => o.project === 'client-prod');
    const [d] = buildSummary(alone, RUN_FACTS).diagnoses;
    expect(d!.nextStep).toMatch(
      /^Add the realtime origin \(wss:\/\/api\.prod\.localhost:\d+\) to the portal's Content-Security-Policy connect-src\.$/,
    );
  });
});
