import type { Stage } from '../fixtures/evidence.ts';
import { percentile as nearestRank } from '../fixtures/ladder/percentiles.ts';
import { redactValue } from '../fixtures/redact.ts';
import type { CellOutcome, RunFacts } from './cell-outcome.ts';
import { connectSrc } from './csp.ts';
import { diagnose } from './diagnosis.ts';
import {
  SUMMARY_SCHEMA_ID,
  SUMMARY_VERSION,
  type Summary,
  type SummaryCell,
  summarySchema,
} from './summary-schema.ts';

/** Builds the versioned summary from the run's outcomes; pure, so a merged report rebuilds the same one. */
export function buildSummary(
  outcomes: readonly CellOutcome[],
  run: RunFacts,
  secrets: string[] = [],
): Summary {
  const cells = latestPerProject(outcomes)
    .filter((o) => o.status !== 'skipped')
    .map(toSummaryCell)
    .sort(byCell(run.projects));
  const split = run.projects.map(splitProject);
  for (const c of cells) split.push({ portal: c.portal, env: c.env });
  const summary: Summary = {
    schema: SUMMARY_SCHEMA_ID,
    version: SUMMARY_VERSION,
    run: {
      ...run,
      portals: unique(split.map((s) => s.portal)),
      envs: unique(split.map((s) => s.env)),
      totals: {
        cells: cells.length,
        passed: cells.filter((c) => c.passed).length,
        failed: cells.filter((c) => !c.passed).length,
      },
    },
    cells,
    diagnoses: diagnose(cells),
  };
  // CellResults arrive redacted; redacting again costs nothing and guards the artifact anyone can download.
  // Parse, not just type: a CellResult from another version of the fixtures must not slip through.
  return summarySchema.parse(redactValue(summary, secrets));
}

/** With retries, or a project run twice across shards, the last attempt is the cell's answer. */
function latestPerProject(outcomes: readonly CellOutcome[]): CellOutcome[] {
  const byProject = new Map<string, CellOutcome>();
  for (const o of outcomes) {
    const seen = byProject.get(o.project);
    if (!seen || o.status !== 'skipped') byProject.set(o.project, o);
  }
  return [...byProject.values()];
}

function percentile(samples: readonly number[], p: number): number | null {
  return nearestRank(samples, p) ?? null;
}

function toSummaryCell(o: CellOutcome): SummaryCell {
  const c = o.cell;
  const { portal, env } = c ?? splitProject(o.project);
  const test = {
    title: o.title,
    file: o.file,
    status: o.status,
    attempts: o.attempts,
    durationMs: o.durationMs,
    error: o.error,
  };
  if (!c) {
    return {
      cell: o.project,
      portal,
      env,
      targetKind: 'embedded',
      recording: 'on',
      verdict: 'NO_RESULT',
      passed: false,
      failedStage: null,
      stageReached: null,
      cause: `The test ended "${o.status}" without attaching matrix-cell.json: ${o.error ?? 'no error recorded'}`,
      nextStep: `Open the Playwright report for ${o.project}: the fixture failed before it could record evidence.`,
      stages: [],
      latency: { samplesMs: [], p50: null, p95: null, p99: null, budgetMs: null, withinBudget: null },
      portalUrl: null,
      table: null,
      channelTopic: null,
      changes: null,
      writeAs: null,
      signInStrategy: null,
      requiredClaims: null,
      origin: null,
      socketUrl: null,
      handshake: null,
      csp: null,
      cspConnectSrc: null,
      identities: [],
      joinReply: null,
      systemMessages: [],
      events: { matched: 0, duplicates: 0, joinsPerTopic: {} },
      frames: [],
      consoleErrors: [],
      versions: {},
      startedAt: null,
      finishedAt: null,
      test,
      doctor: null,
    };
  }
  const samples = c.latency.samplesMs;
  const p95 = c.latency.p95 ?? percentile(samples, 95);
  const withinBudget = p95 === null ? null : p95 <= c.latency.budgetMs;
  return {
    cell: c.cell,
    portal,
    env,
    targetKind: c.targetKind,
    recording: c.recording === 'off' ? 'off' : 'on',
    verdict: c.verdict,
    passed: c.verdict === 'PASS' && withinBudget !== false,
    failedStage: c.failedStage,
    stageReached: stageReached(c.stages, c.failedStage),
    cause: c.cause,
    nextStep: c.nextStep,
    stages: c.stages,
    latency: {
      samplesMs: samples,
      p50: c.latency.p50 ?? percentile(samples, 50),
      p95,
      p99: c.latency.p99 ?? percentile(samples, 99),
      budgetMs: c.latency.budgetMs,
      withinBudget,
    },
    portalUrl: c.portalUrl,
    table: c.table ?? null,
    channelTopic: c.channelTopic ?? null,
    changes: c.changes ?? (c.table ? { kind: 'postgres_changes' } : null),
    writeAs: c.writeAs ?? (c.table ? 'service_role' : null),
    signInStrategy: c.signInStrategy ?? null,
    requiredClaims: c.requiredClaims ?? null,
    origin: originOf(c.portalUrl),
    socketUrl: c.socketUrl ?? null,
    handshake: c.handshake ?? null,
    csp: c.csp ?? null,
    cspConnectSrc: connectSrc(c.csp),
    identities: c.identities,
    joinReply: c.joinReply ?? null,
    systemMessages: c.systemMessages,
    events: c.events,
    frames: c.frames,
    consoleErrors: c.consoleErrors,
    versions: c.versions,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    test,
    doctor: c.doctor ?? null,
  };
}

function stageReached(stages: SummaryCell['stages'], failed: Stage | null): Stage | null {
  if (failed) return failed;
  let last: Stage | null = null;
  for (const s of stages) if (s.status !== 'not_reached') last = s.stage;
  return last;
}

function originOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).origin;
  } catch (error) {
    if (error instanceof TypeError) return null; // the fixtures recorded something that is not a URL
    throw error;
  }
}

export function splitProject(project: string): { portal: string; env: string } {
  const dash = project.lastIndexOf('-');
  return dash < 0
    ? { portal: project, env: '' }
    : { portal: project.slice(0, dash), env: project.slice(dash + 1) };
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter(Boolean))];
}

/** Config order (portals then envs as the config declares them), unknown projects last by name. */
function byCell(projects: readonly string[]) {
  return (a: SummaryCell, b: SummaryCell) => {
    const ia = projects.indexOf(a.cell);
    const ib = projects.indexOf(b.cell);
    if (ia !== ib) return (ia < 0 ? Number.MAX_SAFE_INTEGER : ia) - (ib < 0 ? Number.MAX_SAFE_INTEGER : ib);
    return a.cell.localeCompare(b.cell);
  };
}
