import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_APP } from '../../examples/chat/stack-app.ts';
import type { CellResult } from '../../fixtures/evidence.ts';
import { clearFaults, setFault } from '../../stack/faults/control-client.ts';
import { taggedRows } from '../hygiene/support/tagged-rows.ts';
import type { CatalogueRun } from './support/catalogue.ts';
import { type MatrixDeployment, startMatrixDeployment } from './support/deployment.ts';
import { describeRun, type MatrixRun, ROOT, runMatrix } from './support/matrix.ts';

/**
 * Issue 11, the proof that the matrix is not a demo of itself: a second app of another shape
 * (examples/chat: a bigint-keyed `messages` table, RLS by room membership, a labelled login at
 * /sign-in with no test ids, a channel per room with a filter beside presence and broadcast ones, an
 * SSO-only portal signed in by the `api` strategy, and a portal on Broadcast from Database: a private
 * `room:<id>` topic fed by a trigger, RLS on realtime.messages) tested by its own config file alone.
 * Healthy, its six cells pass under their own names; with catalogue faults on, each faulted cell gets the
 * catalogue's verdict and the diagnosis names the fault in the app's own terms.
 */
const CONFIG = join(ROOT, 'examples/chat/realtime-matrix.config.ts');
/** Where the chat keeps the matrix's rows (its config's table). */
const CHAT_ROWS = { schema: 'public', name: 'messages', tagColumn: 'body' };
const CELLS = ['member-local', 'moderator-local', 'live-local', 'member-prod', 'moderator-prod', 'live-prod'];
/**
 * The portals an env-wide fault acts on: a postgres_changes mechanism (the publication) or a public
 * join (private only) leaves the live portal's private Broadcast alone, and a Broadcast mechanism
 * leaves member and moderator alone — those cells must still pass.
 */
const ACTS_ON: Record<string, string[]> = {
  'table-not-published': ['member', 'moderator'],
  'broadcast-private-only': ['member', 'moderator'],
  'broadcast-no-select-policy': ['live'],
  'broadcast-topic-mismatch': ['live'],
  'broadcast-not-security-definer': ['live'],
};

let deployment: MatrixDeployment;
const runs: MatrixRun[] = [];

beforeAll(async () => {
  deployment = await startMatrixDeployment('chat', { app: CHAT_APP, envs: ['local', 'prod'], portals: true });
}, 120_000);

afterAll(async () => {
  if (!deployment) return;
  await clearFaults({ runtimeFile: deployment.runtimeFile }).catch((error: Error) => {
    process.stderr.write(`clearing faults after the chat catalogue failed: ${error.message}\n`);
  });
  await deployment.stack.stop();
}, 60_000);

async function run(label: string, faults: CatalogueRun['faults'] = []): Promise<MatrixRun> {
  const control = { runtimeFile: deployment.runtimeFile };
  await clearFaults(control);
  try {
    for (const f of faults) await setFault(f.target, f.fault, true, control);
    const result = await runMatrix(deployment.dir, { ...deployment.env, RTM_CONFIG: CONFIG }, { label });
    runs.push(result);
    return result;
  } finally {
    await clearFaults(control);
  }
}

describe('examples/chat: a second app, tested by its config alone', () => {
  it('healthy: its six cells pass under their own names, on the channels found by their bindings or topic', {
    timeout: 240_000,
  }, async () => {
    const result = await run('chat-healthy');
    const why = describeRun(result);
    expect(result.code, why).toBe(0);
    expect(result.cells.map((c) => `${c.cell}: ${c.verdict}`).sort(), why).toEqual(
      CELLS.map((c) => `${c}: PASS`).sort(),
    );
    expect(result.summary?.cells.map((c) => c.cell).sort(), why).toEqual([...CELLS].sort());
    const byCell = new Map<string, CellResult>(result.cells.map((c) => [c.cell, c]));
    for (const env of ['local', 'prod']) {
      const member = byCell.get(`member-${env}`)!;
      const moderator = byCell.get(`moderator-${env}`)!;
      // The member page joins presence and broadcast channels too; the room's channel is judged.
      expect({ topic: member.channelTopic, strategy: member.signInStrategy }, why).toEqual({
        topic: 'realtime:room:1',
        strategy: 'ui',
      });
      expect({ topic: moderator.channelTopic, strategy: moderator.signInStrategy }, why).toEqual({
        topic: 'realtime:moderation',
        strategy: 'api',
      });
      expect(member.table, why).toEqual({ schema: 'public', name: 'messages', primaryKey: ['id'] });
      // The live page joins room:1 privately and hears the trigger's broadcast_changes INSERT,
      // UPDATE and DELETE of the row its user wrote; the moderator's queue hears all three as
      // postgres_changes.
      const live = byCell.get(`live-${env}`)!;
      expect({ topic: live.channelTopic, changes: live.changes }, why).toEqual({
        topic: 'realtime:room:1',
        changes: { kind: 'broadcast', topic: 'room:1', private: true },
      });
      expect(live.stages.find((s) => s.stage === 'event_delivered')?.summary, why).toContain(
        '3 of 3 writes arrived on realtime:room:1: broadcast INSERT (private), broadcast UPDATE (private), broadcast DELETE (private).',
      );
      expect(live.writeAs, why).toBe('user');
      expect(moderator.stages.find((s) => s.stage === 'event_delivered')?.summary, why).toBe(
        '3 of 3 writes arrived on realtime:moderation: postgres_changes INSERT, postgres_changes UPDATE, postgres_changes DELETE.',
      );
    }
    // The terminal table names the app's portals.
    expect(result.output).toMatch(/^member\s+PASS .*PASS/m);
    expect(result.output).toMatch(/^moderator\s+PASS .*PASS/m);
    expect(result.output).toMatch(/^live\s+PASS .*PASS/m);
    // Every message the matrix inserted is gone.
    expect(Object.values(await taggedRows(deployment.stack, CHAT_ROWS)).flat(), why).toEqual([]);
  });

  const ROUNDS: CatalogueRun[] = [
    {
      label: 'chat-csp-join',
      faults: [
        {
          fault: 'csp-blocks-socket',
          target: 'member-prod',
          verdict: 'SOCKET_BLOCKED',
          stage: 'socket_opened',
        },
        {
          fault: 'join-unanswered',
          target: 'moderator-local',
          verdict: 'JOIN_TIMEOUT',
          stage: 'channel_joined',
        },
      ],
    },
    {
      label: 'chat-slow-origin',
      faults: [
        { fault: 'slow-delivery', target: 'member-local', verdict: 'EVENT_LATE', stage: 'on_time' },
        {
          fault: 'origin-not-allowed',
          target: 'moderator-prod',
          verdict: 'SOCKET_REJECTED',
          stage: 'socket_opened',
        },
      ],
    },
    {
      label: 'chat-publication-key',
      faults: [
        {
          fault: 'table-not-published',
          target: 'prod',
          verdict: 'CHANGES_UNAVAILABLE',
          stage: 'changes_ready',
        },
        { fault: 'bad-apikey', target: 'member-local', verdict: 'SOCKET_REJECTED', stage: 'socket_opened' },
      ],
    },
    {
      label: 'chat-broadcast-join',
      faults: [
        {
          fault: 'broadcast-anon-join',
          target: 'live-local',
          verdict: 'JOINED_AS_ANON',
          stage: 'socket_identity',
        },
        {
          fault: 'broadcast-no-select-policy',
          target: 'prod',
          verdict: 'JOIN_UNAUTHORIZED',
          stage: 'channel_joined',
        },
      ],
    },
    {
      label: 'chat-broadcast-private',
      faults: [
        {
          fault: 'broadcast-not-private',
          target: 'live-prod',
          verdict: 'NO_EVENT',
          stage: 'event_delivered',
        },
        { fault: 'broadcast-private-only', target: 'local', verdict: 'JOIN_ERROR', stage: 'channel_joined' },
      ],
    },
    {
      // Neither leaves anything on the wire: the doctor names them from the database.
      label: 'chat-broadcast-trigger',
      faults: [
        { fault: 'broadcast-topic-mismatch', target: 'local', verdict: 'NO_EVENT', stage: 'event_delivered' },
        {
          fault: 'broadcast-not-security-definer',
          target: 'prod',
          verdict: 'NO_EVENT',
          stage: 'event_delivered',
        },
      ],
    },
    {
      label: 'chat-portal-down',
      faults: [
        {
          fault: 'portal-down',
          target: 'moderator-local',
          verdict: 'PORTAL_UNREACHABLE',
          stage: 'portal_reachable',
        },
      ],
    },
  ];

  for (const round of ROUNDS) {
    it(`${round.faults.map((f) => `${f.fault} on ${f.target}`).join(', ')}: the catalogue's verdict, every other cell PASS`, {
      timeout: 240_000,
    }, async () => {
      const result = await run(round.label, round.faults);
      const why = describeRun(result);
      const byCell = new Map<string, CellResult>(result.cells.map((c) => [c.cell, c]));
      const faulted = new Map<string, CatalogueRun['faults'][number]>();
      for (const f of round.faults) {
        const feels = (cell: string) => ACTS_ON[f.fault]?.some((p) => cell.startsWith(`${p}-`)) ?? true;
        for (const cell of CELLS.filter((c) => (c === f.target || c.endsWith(`-${f.target}`)) && feels(c)))
          faulted.set(cell, f);
      }
      for (const cell of CELLS) {
        const got = byCell.get(cell);
        const f = faulted.get(cell);
        const diagnosis = result.summary?.diagnoses.find((d) => d.cell === cell);
        if (!f) {
          expect(`${cell}: ${got?.verdict}`, why).toBe(`${cell}: PASS`);
          continue;
        }
        expect(
          { cell, verdict: got?.verdict, stage: got?.failedStage, fault: diagnosis?.fault },
          why,
        ).toEqual({ cell, verdict: f.verdict, stage: f.stage, fault: f.fault });
        const cause = got?.cause ?? '';
        if (f.fault === 'broadcast-no-select-policy')
          expect(cause, why).toContain(
            'Unauthorized: You do not have permissions to read from this Channel topic: room:1',
          );
        if (f.fault === 'broadcast-anon-join') expect(cause, why).toContain("not live@chat.test's JWT");
        if (f.fault === 'broadcast-not-private') expect(cause, why).toContain('with private: false');
        if (f.fault === 'broadcast-private-only')
          expect(cause, why).toContain('PrivateOnly: This project only allows private channels');
        if (f.fault === 'broadcast-topic-mismatch')
          expect(cause, why).toContain(
            "The trigger sends the row to 'realtime:room:1', the portal joined 'room:1'",
          );
        if (f.fault === 'broadcast-not-security-definer')
          expect(diagnosis?.nextStep, why).toContain(
            'alter function public.broadcast_message_change security definer',
          );
        if (f.fault === 'table-not-published') {
          // The next step is the app's own SQL, not the demo's table.
          expect(diagnosis?.nextStep, why).toContain(
            'alter publication supabase_realtime add table public.messages;',
          );
        }
      }
      expect(Object.values(await taggedRows(deployment.stack, CHAT_ROWS)).flat(), why).toEqual([]);
    });
  }
});
