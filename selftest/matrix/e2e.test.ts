import { describe, expect, it } from 'vitest';
import { withFixedPortLock } from './support/fixed-port-lock.ts';
import { cellResults, fixedPortsState, runMatrix } from './support/matrix-run.ts';

/**
 * The product, end to end: `npx playwright test` on the default (embedded) environments runs the
 * six cells in real Chromium against the embedded stack (started by the config's webServer, or a
 * running `npm run stack` reused) and every cell passes.
 */
describe('the matrix, end to end', () => {
  it('npx playwright test: 6 cells, 6 passed', { timeout: 900_000 }, async () => {
    const { state, code, output, report } = await withFixedPortLock(
      'selftest/matrix/e2e.test.ts',
      600_000,
      async () => {
        const state = await fixedPortsState();
        // The terminal a person sees (list + matrix table), as a fresh shell runs it: no inherited mark
        // that the Node requirement was already said, no verbose stack.
        const run = await runMatrix(
          [],
          { RTM_NODE_NOTICE_SHOWN: undefined, RTM_STACK_VERBOSE: undefined },
          'list,json,./reporters/matrix-reporter.ts',
        );
        return { state, ...run };
      },
    );
    const why = `npx playwright test exited ${code}; output:\n${output.slice(-6000)}`;
    expect(report, why).toBeDefined();
    expect(report!.errors, why).toEqual([]);
    expect(report!.stats, why).toMatchObject({ expected: 6, unexpected: 0, flaky: 0, skipped: 0 });
    expect(code, why).toBe(0);

    // Readable output: before the table, at most the stack's one line (none when a running stack is
    // reused), supabase-js's Node warning at most once (the project's own notice replaces it), the
    // six result lines; the matrix table last.
    const lines = output.split('\n');
    const tableAt = lines.findIndex((l) => l.startsWith('Realtime matrix:'));
    expect(tableAt, why).toBeGreaterThan(0);
    const before = lines.slice(0, tableAt);
    const stackLines = before.filter((l) => l.startsWith('[stack]'));
    expect(stackLines, why).toHaveLength(state === 'free' ? 1 : 0);
    if (state === 'free')
      expect(stackLines[0]).toMatch(
        /^\[stack\] Embedded stack ready in \d+ ms: .* details in test-results\/stack\.log$/,
      );
    const warnings = before.filter((l) =>
      /Node\.js 20 and below are deprecated|supported by realtime-matrix/.test(l),
    );
    expect(warnings.length, why).toBeLessThanOrEqual(1);
    expect(
      before.filter((l) => /^\s+✓\s+\d \[/.test(l)),
      why,
    ).toHaveLength(6);
    expect(lines.filter(Boolean).at(-1), why).toMatch(/^Matrix report: /);

    // Each cell's own evidence agrees: six distinct cells, each PASS against an embedded target.
    const cells = cellResults(report!);
    expect(cells.map((c) => c.cell).sort()).toEqual([
      'admin-local',
      'admin-prod',
      'agent-local',
      'agent-prod',
      'client-local',
      'client-prod',
    ]);
    for (const c of cells) {
      expect(c, `${c.cell}: ${c.cause}`).toMatchObject({
        verdict: 'PASS',
        targetKind: 'embedded',
        failedStage: null,
      });
      expect(c.latency.samplesMs.length).toBe(1);
      expect(c.identities.some((i) => i.source !== 'url_apikey' && i.role === 'authenticated')).toBe(true);
    }
  });
});
