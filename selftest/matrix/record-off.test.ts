import { describe, expect, it } from 'vitest';
import { STAGES } from '../../fixtures/evidence.ts';
import { judgeCell } from '../../fixtures/ladder/judge.ts';
import type { CellEvidence } from '../../fixtures/ladder/recorded.ts';
import { recordFromEnv } from '../../fixtures/options.fixture.ts';
import { FENCE_ID, healthyEvidence, PASSWORD, ROW_ID, SERVICE_KEY } from './support/evidence-builder.ts';

/** What the walk gathers with `record: false`: no socket, the rows as the page showed them. */
async function unrecorded(change: (e: CellEvidence) => void = () => {}): Promise<CellEvidence> {
  const e = await healthyEvidence();
  e.sockets = [];
  e.recording = false;
  e.realtimeStatus = 'SUBSCRIBED';
  e.pageRows = [
    { rowId: ROW_ID, atMs: 2320 },
    { rowId: FENCE_ID, atMs: 2520 },
  ];
  change(e);
  return e;
}

describe('record option', () => {
  it('is on unless MATRIX_RECORD says 0', () => {
    expect(recordFromEnv(undefined)).toBe(true);
    expect(recordFromEnv('')).toBe(true);
    expect(recordFromEnv('1')).toBe(true);
    expect(recordFromEnv('0')).toBe(false);
    expect(recordFromEnv('false')).toBe(false);
    expect(() => recordFromEnv('off')).toThrow(/MATRIX_RECORD must be 1 or 0/);
  });

  it('leaves a recorded cell exactly as before: no recording field', async () => {
    const result = judgeCell(await healthyEvidence());
    expect(result.verdict).toBe('PASS');
    expect('recording' in result).toBe(false);
  });
});

describe('judgeCell with recording off', () => {
  it('passes on the row shown in the page, says recording was off, infers 3–6, does not claim exactly-once', async () => {
    const result = judgeCell(await unrecorded());
    expect(result.verdict).toBe('PASS');
    expect(result.recording).toBe('off');
    expect(result.frames).toEqual([]);
    expect(result.stages.map((s) => s.stage)).toEqual([...STAGES]);
    expect(result.stages.map((s) => s.status)).toEqual([
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
      'not_reached',
    ]);
    for (const s of result.stages.slice(2, 6)) expect(s.summary).toMatch(/^Inferred, not observed/);
    expect(result.stages[8]!.summary).toMatch(/Not observed.*recording off/);
    expect(result.cause).toMatch(/recording off/);
    expect(result.latency).toMatchObject({ samplesMs: [170], p50: 170 });
    expect(result.events.matched).toBe(1);
  });

  it('fails without naming a stage it could not see: the cause says stages 3–7 cannot be told apart', async () => {
    const result = judgeCell(await unrecorded((e) => (e.pageRows = [])));
    expect(result.verdict).toBe('NO_EVENT');
    expect(result.failedStage).toBe('event_delivered');
    expect(result.cause).toContain(`row ${ROW_ID}`);
    expect(result.cause).toMatch(/cannot tell which of stages 3–7/);
    expect(result.cause).toContain('"SUBSCRIBED"');
    expect(result.nextStep).toMatch(/recording on/);
    for (const s of result.stages.slice(2, 6)) {
      expect(s.status).toBe('not_reached');
      expect(s.summary).toMatch(/Not observed/);
    }
  });

  it('reports a page that never subscribed, and still judges stages 1–2 as always', async () => {
    const noStatus = judgeCell(
      await unrecorded((e) => {
        e.inserts = [];
        e.pageRows = [];
        e.realtimeStatus = 'CHANNEL_ERROR';
      }),
    );
    expect(noStatus.verdict).toBe('NO_EVENT');
    expect(noStatus.cause).toMatch(/no test row was inserted.*"CHANNEL_ERROR"/);
    const rejected = judgeCell(
      await unrecorded((e) => {
        e.signIn = {
          strategy: 'ui',
          outcome: 'unauthorized',
          url: 'http://localhost:3000/unauthorized',
          waitedMs: 5,
        };
      }),
    );
    expect(rejected.verdict).toBe('ROLE_REJECTED');
    expect(rejected.nextStep).not.toMatch(/recording on/);
  });

  it('keeps secrets out', async () => {
    const result = judgeCell(
      await unrecorded((e) => {
        e.pageRows = [];
        e.insertError = `HTTP 401 for ${SERVICE_KEY} with ${PASSWORD}`;
      }),
    );
    expect(JSON.stringify(result)).not.toContain(SERVICE_KEY);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });
});
