import { type CellResult, STAGES, type Stage } from '../../../fixtures/evidence.ts';

/**
 * Where a healthy cell spends its time: each stage's share is its decision time (`atMs`, ms since
 * the cell started) minus the previous decided stage's. Stages decided without a time are merged
 * into the next one that has one.
 */
export interface StageTiming {
  stage: Stage;
  samples: number[];
  maxMs: number;
  medianMs: number;
}

export function stageTimings(cells: readonly CellResult[]): StageTiming[] {
  const samples = new Map<Stage, number[]>();
  for (const cell of cells) {
    let previous = 0;
    for (const s of cell.stages) {
      if (s.atMs === undefined) continue;
      const list = samples.get(s.stage) ?? [];
      list.push(Math.max(0, s.atMs - previous));
      samples.set(s.stage, list);
      previous = s.atMs;
    }
  }
  return STAGES.filter((s) => samples.has(s)).map((stage) => {
    const list = [...(samples.get(stage) ?? [])].sort((a, b) => a - b);
    return {
      stage,
      samples: list,
      maxMs: list[list.length - 1] ?? 0,
      medianMs: list[Math.floor(list.length / 2)] ?? 0,
    };
  });
}

export function renderTimings(timings: readonly StageTiming[]): string {
  const slowest = [...timings].sort((a, b) => b.medianMs - a.medianMs)[0];
  const rows = timings.map(
    (t) =>
      `${t.stage.padEnd(16)} median ${t.medianMs.toFixed(0).padStart(6)} ms  max ${t.maxMs.toFixed(0).padStart(6)} ms  (${t.samples.length} samples)`,
  );
  return `${rows.join('\n')}\nslowest stage (median): ${slowest ? `${slowest.stage}, ${slowest.medianMs.toFixed(0)} ms` : 'none timed'}`;
}
