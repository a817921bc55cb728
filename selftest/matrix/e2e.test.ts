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
    const { code, output, report } = await withFixedPortLock(
      'selftest/matrix/e2e.test.ts',
      600_000,
      async () => {
        await fixedPortsState();
        return runMatrix();
      },
    );
    const why = `npx playwright test exited ${code}; output:\n${output.slice(-6000)}`;
    expect(report, why).toBeDefined();
    expect(report!.errors, why).toEqual([]);
    expect(report!.stats, why).toMatchObject({ expected: 6, unexpected: 0, flaky: 0, skipped: 0 });
    expect(code, why).toBe(0);

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
