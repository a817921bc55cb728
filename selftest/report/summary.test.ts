import { describe, expect, it } from 'vitest';
import { STAGES } from '../../fixtures/evidence.ts';
import { buildSummary } from '../../reporters/build-summary.ts';
import { summarySchema } from '../../reporters/summary-schema.ts';
import { faultNames, outcome, PROJECTS, RUN_FACTS, recordedCell, recordedRun } from './support/recorded.ts';

describe('summary.json', () => {
  it('a healthy run: six PASS cells in config order, percentiles and budget per cell, schema-valid', () => {
    const summary = buildSummary(recordedRun(), RUN_FACTS);
    expect(summarySchema.parse(JSON.parse(JSON.stringify(summary)))).toEqual(summary);
    expect(summary.cells.map((c) => `${c.cell}:${c.verdict}`)).toEqual(PROJECTS.map((p) => `${p}:PASS`));
    expect(summary.run.totals).toEqual({ cells: 6, passed: 6, failed: 0 });
    expect(summary.run.portals).toEqual(['client', 'agent', 'admin']);
    expect(summary.run.envs).toEqual(['local', 'prod']);
    const agentProd = summary.cells.find((c) => c.cell === 'agent-prod')!;
    expect(agentProd.latency).toMatchObject({ p50: 118, p95: 143, budgetMs: 2000, withinBudget: true });
    expect(agentProd.stageReached).toBe('exactly_once');
    expect(agentProd.origin).toBe('https://agent.prod.localhost:8443');
    expect(agentProd.cspConnectSrc).toEqual([
      "'self'",
      'https://api.prod.localhost:8443',
      'wss://api.prod.localhost:8443',
    ]);
    expect(summary.diagnoses).toEqual([]);
  });

  it.each(faultNames())('%s: the failing cells carry verdict, stage reached and a diagnosis', (fault) => {
    const summary = summarySchema.parse(buildSummary(recordedRun(fault), RUN_FACTS));
    const failing = summary.cells.filter((c) => !c.passed);
    expect(failing.length).toBeGreaterThan(0);
    for (const cell of failing) {
      expect(cell.verdict).not.toBe('PASS');
      expect(cell.stageReached).toBe(cell.failedStage);
      expect(STAGES).toContain(cell.failedStage);
      expect(summary.diagnoses.map((d) => d.cell)).toContain(cell.cell);
    }
    expect(summary.run.totals.failed).toBe(failing.length);
  });

  it('computes percentiles when the fixtures left them out', () => {
    const cell = recordedCell('pass/client-local.json');
    cell.latency = { samplesMs: [30, 10, 20, 40], budgetMs: 1000 };
    const [summaryCell] = buildSummary([outcome(cell)], { ...RUN_FACTS, projects: ['client-local'] }).cells;
    expect(summaryCell!.latency).toMatchObject({ p50: 20, p95: 40, p99: 40, withinBudget: true });
  });

  it('a PASS verdict over its budget is not passed', () => {
    const cell = recordedCell('pass/admin-prod.json');
    cell.latency = { samplesMs: [2100, 2300], p50: 2100, p95: 2300, budgetMs: 2000 };
    const summary = buildSummary([outcome(cell)], { ...RUN_FACTS, projects: ['admin-prod'] });
    expect(summary.cells[0]).toMatchObject({
      verdict: 'PASS',
      passed: false,
      latency: { withinBudget: false },
    });
  });

  it('a test that crashed before attaching evidence still gets a NO_RESULT row naming the error', () => {
    const crashed = {
      ...outcome(recordedCell('pass/agent-local.json')),
      status: 'timedOut' as const,
      error: 'Test timeout of 30000ms exceeded.',
      cell: null,
    };
    const summary = buildSummary([crashed], { ...RUN_FACTS, projects: ['agent-local'] });
    expect(summary.cells[0]).toMatchObject({
      cell: 'agent-local',
      portal: 'agent',
      env: 'local',
      verdict: 'NO_RESULT',
      passed: false,
      stageReached: null,
    });
    expect(summary.cells[0]!.cause).toContain('Test timeout of 30000ms exceeded.');
    expect(summary.diagnoses[0]!.headline).toContain('no evidence recorded');
  });

  it('a retried test counts once, by its last attempt', () => {
    const first = { ...outcome(recordedCell('faults/join-unanswered/agent-prod.json')), attempts: 1 };
    const second = { ...outcome(recordedCell('pass/agent-prod.json')), attempts: 2 };
    const summary = buildSummary([first, second], { ...RUN_FACTS, projects: ['agent-prod'] });
    expect(summary.cells).toHaveLength(1);
    expect(summary.cells[0]).toMatchObject({ verdict: 'PASS', test: { attempts: 2 } });
  });

  it('a signed token or known secret that slipped into a CellResult does not reach the summary', () => {
    const cell = recordedCell('pass/client-local.json');
    const signed = `${cell.identities[1]!.unsigned!.replace('.<signature removed>', '')}.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU`;
    cell.consoleErrors = [`token ${signed}`, 'password hunter2-very-secret'];
    const summary = buildSummary([outcome(cell)], { ...RUN_FACTS, projects: ['client-local'] }, [
      'hunter2-very-secret',
    ]);
    const text = JSON.stringify(summary);
    expect(text).not.toContain(signed);
    expect(text).not.toContain('hunter2-very-secret');
    expect(summary.cells[0]!.consoleErrors[0]).toContain('<signature removed>');
  });
});
