import { describe, expect, it } from 'vitest';
import { buildSummary } from '../../reporters/build-summary.ts';
import { diagnose } from '../../reporters/diagnosis.ts';
import { summarySchema } from '../../reporters/summary-schema.ts';
import { RUN_FACTS, recordedRun } from './support/recorded.ts';

/** fault → [failing cell, catalogue fault named, the aspect that must lead the differences]. */
const PLANTED: [string, string, string | null, string][] = [
  ['portal-down', 'admin-prod', 'portal-down', 'portal'],
  ['role-claim-missing', 'client-prod', 'role-claim-missing', 'sign_in'],
  ['csp-blocks-socket', 'agent-prod', 'csp-blocks-socket', 'csp_connect_src'],
  ['edge-drops-upgrade', 'agent-prod', 'edge-drops-upgrade', 'handshake'],
  ['origin-not-allowed', 'agent-prod', 'origin-not-allowed', 'handshake'],
  ['bad-apikey', 'agent-prod', 'bad-apikey', 'socket_url'],
  ['session-not-forwarded', 'agent-prod', 'session-not-forwarded', 'join_identity'],
  ['expired-token', 'agent-local', 'expired-token', 'join_reply'],
  ['join-unanswered', 'agent-prod', 'join-unanswered', 'join_reply'],
  ['table-not-published', 'agent-prod', 'table-not-published', 'system_message'],
  ['rls-hides-rows', 'agent-prod', 'rls-hides-rows', 'events'],
  ['filter-mismatch', 'client-local', 'filter-mismatch', 'subscription'],
  ['slow-delivery', 'admin-prod', 'slow-delivery', 'latency'],
  ['duplicate-subscription', 'client-prod', 'duplicate-subscription', 'subscription'],
  ['token-not-refreshed', 'client-local', 'token-not-refreshed', 'system_message'],
  ['sign-in-failed', 'agent-local', null, 'sign_in'],
];

describe('cross-cell diagnosis', () => {
  it.each(PLANTED)('%s: %s names %s, led by the %s difference', (fault, cell, named, aspect) => {
    const diagnosis = buildSummary(recordedRun(fault), RUN_FACTS).diagnoses.find((d) => d.cell === cell)!;
    expect(diagnosis.fault).toBe(named);
    expect(diagnosis.differences[0]?.aspect).toBe(aspect);
    expect(diagnosis.headline).toContain(cell);
    expect(diagnosis.nextStep.length).toBeGreaterThan(20);
  });

  it("the seeds' case: agent-prod joins as anon while five cells pass, and the one difference is named", () => {
    const summary = buildSummary(recordedRun('session-not-forwarded'), RUN_FACTS);
    expect(summary.cells.filter((c) => c.passed)).toHaveLength(5);
    expect(summary.diagnoses).toHaveLength(1);
    const [d] = summary.diagnoses;
    // Same-env passing cells are the comparison: host, CSP and keys are shared there.
    expect(d!.differences).toEqual([
      {
        aspect: 'join_identity',
        failing: 'role=anon, user_role=<missing>',
        passing: ['role=authenticated, user_role={portal}'],
        comparedWith: ['client-prod', 'admin-prod'],
        note: 'Realtime authorizes the channel with the phx_join access_token, not the URL apikey.',
      },
    ]);
    expect(d!.headline).toBe(
      'agent-prod JOINED_AS_ANON (matches `session-not-forwarded`): identity in phx_join "role=anon, user_role=<missing>" here, "role=authenticated, user_role={portal}" in client-prod, admin-prod.',
    );
    // The anon apikey in the URL is normal everywhere: it must not be reported as a difference.
    expect(d!.differences.map((x) => x.aspect)).not.toContain('socket_url');
  });

  it('an environment-wide fault compares across environments and says so', () => {
    const summary = buildSummary(recordedRun('table-not-published'), RUN_FACTS);
    expect(summary.diagnoses.map((d) => d.cell)).toEqual(['client-prod', 'agent-prod', 'admin-prod']);
    for (const d of summary.diagnoses) {
      expect(d.fault).toBe('table-not-published');
      expect(d.differences[0]!.comparedWith).toEqual(['client-local', 'agent-local', 'admin-local']);
      expect(d.differences[0]!.note).toContain('no prod cell passed');
    }
  });

  it('works from summary.json alone: diagnosing the parsed file gives the same answer', () => {
    const summary = buildSummary(recordedRun('csp-blocks-socket', 'expired-token'), RUN_FACTS);
    const reread = summarySchema.parse(JSON.parse(JSON.stringify(summary)));
    expect(diagnose(reread.cells)).toEqual(summary.diagnoses);
    expect(summary.diagnoses.map((d) => d.fault)).toEqual(['expired-token', 'csp-blocks-socket']);
  });

  it('with nothing passing there is nothing to compare, and the headline says so', () => {
    const run = recordedRun('table-not-published', 'expired-token', 'filter-mismatch').filter((o) =>
      ['client-prod', 'agent-local', 'client-local'].includes(o.project),
    );
    const summary = buildSummary(run, RUN_FACTS);
    const d = summary.diagnoses.find((x) => x.cell === 'client-prod')!;
    expect(d.differences).toEqual([]);
    expect(d.headline).toContain('no passing cell to compare with');
    expect(d.fault).toBe('table-not-published');
  });
});
