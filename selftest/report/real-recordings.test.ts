import { describe, expect, it } from 'vitest';
import type { CellResult } from '../../fixtures/evidence.ts';
import { buildSummary } from '../../reporters/build-summary.ts';
import { renderTable } from '../../reporters/terminal-table.ts';
import { outcome, PROJECTS, RUN_FACTS, realRun } from './support/recorded.ts';

/** CellResults the real matrix produced (npx playwright test against the embedded stack, 6/6 PASS). */
describe('real recordings', () => {
  it('build a valid summary: six PASS cells with their real latencies, budgets and identities', () => {
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

  it("diagnose real evidence with the seeds' fault planted: agent-prod's join carries the anon key", () => {
    const run = realRun().map((o) => {
      if (o.project !== 'agent-prod' || !o.cell) return o;
      // What session-not-forwarded changes in the evidence: the join's token is the URL's anon key.
      const apikey = o.cell.identities.find((i) => i.source === 'url_apikey')!;
      const cell: CellResult = {
        ...o.cell,
        verdict: 'JOINED_AS_ANON',
        failedStage: 'socket_identity',
        cause: 'The phx_join access_token is the anon key.',
        identities: o.cell.identities.map((i) =>
          i.source === 'join_access_token' ? { ...apikey, source: 'join_access_token' } : i,
        ),
        stages: o.cell.stages.map((s, i) =>
          i < 3
            ? s
            : i === 3
              ? { ...s, status: 'failed' }
              : { stage: s.stage, status: 'not_reached', summary: 'not reached', evidence: {} },
        ),
      };
      return outcome(cell);
    });
    const [d] = buildSummary(run, RUN_FACTS).diagnoses;
    expect(d!.fault).toBe('session-not-forwarded');
    expect(d!.differences.map((x) => [x.aspect, x.failing, x.passing])).toEqual([
      ['join_identity', 'role=anon, user_role=<missing>', ['role=authenticated, user_role={portal}']],
    ]);
    expect(d!.differences[0]!.comparedWith).toEqual(['client-prod', 'admin-prod']);
  });
});
