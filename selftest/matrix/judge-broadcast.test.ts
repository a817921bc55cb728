import { describe, expect, it } from 'vitest';
import { judgeCell } from '../../fixtures/ladder/judge.ts';
import { broadcastKind } from '../../fixtures/ladder/kinds/broadcast.ts';
import { unsettledSockets } from '../../fixtures/ladder/readiness.ts';
import type { CellEvidence, RawFrame } from '../../fixtures/ladder/recorded.ts';
import { cellChanges } from '../../fixtures/ladder.fixture.ts';
import type { Target } from '../../fixtures/target.ts';
import { frame, healthyEvidence, socket, userToken } from './support/evidence-builder.ts';

/**
 * The ladder for a Broadcast-from-Database cell, from recorded evidence shaped as supabase-js 2.119
 * and realtime exchange it (PROTOCOL-BROADCAST.md §1.8, §3): a private join of `realtime:room:1`,
 * its `ok` reply as readiness (no postgres_changes `system` step), and the row arriving as a
 * `broadcast_changes` INSERT — binary kind 4 on vsn 2.0.0, JSON on vsn 1.0.0.
 */
const WIRE = 'realtime:room:1';
const ROW = '41';
const FENCE = '42';
const CHANGES = { kind: 'broadcast', topic: 'room:1', event: 'INSERT', private: true } as const;

function joinBroadcast(
  atMs: number,
  token: string | undefined,
  opts: { private?: boolean; ref?: string } = {},
) {
  const ref = opts.ref ?? '6';
  return frame('sent', atMs, [
    ref,
    ref,
    WIRE,
    'phx_join',
    {
      config: {
        broadcast: { ack: false, self: false },
        presence: { key: '', enabled: false },
        postgres_changes: [],
        private: opts.private ?? true,
      },
      ...(token ? { access_token: token } : {}),
      version: 'realtime-js/2.119.1',
    },
  ]);
}

const reply = (atMs: number, status: 'ok' | 'error', response: unknown, ref = '6') =>
  frame('received', atMs, [ref, ref, WIRE, 'phx_reply', { status, response }]);

const UNAUTHORIZED = 'Unauthorized: You do not have permissions to read from this Channel topic: room:1';

function changePayload(id: string, operation = 'INSERT') {
  return {
    id: `9f1c2b7e-0000-4000-8000-0000000000${id}`,
    table: 'messages',
    record: operation === 'DELETE' ? null : { id: Number(id), body: `[rtm:x] live-local ${id}`, room_id: 1 },
    schema: 'public',
    operation,
    old_record: operation === 'INSERT' ? null : { id: Number(id), room_id: 1 },
  };
}

/** vsn 2.0.0: binary kind 4 (topic, event, metadata, JSON payload), as the server fans it out. */
function binaryBroadcast(atMs: number, id: string, event = 'INSERT', topic = WIRE): RawFrame {
  const enc = new TextEncoder();
  const t = enc.encode(topic);
  const e = enc.encode(event);
  const meta = enc.encode(JSON.stringify({ id: changePayload(id).id }));
  const body = enc.encode(JSON.stringify(changePayload(id, event)));
  const bytes = new Uint8Array(5 + t.length + e.length + meta.length + body.length);
  bytes.set([4, t.length, e.length, meta.length, 1]);
  bytes.set(t, 5);
  bytes.set(e, 5 + t.length);
  bytes.set(meta, 5 + t.length + e.length);
  bytes.set(body, 5 + t.length + e.length + meta.length);
  return { direction: 'received', atMs, data: bytes };
}

/** vsn 1.0.0: the same broadcast as a JSON object frame. */
function jsonBroadcast(atMs: number, id: string): RawFrame {
  return {
    direction: 'received',
    atMs,
    data: JSON.stringify({
      topic: WIRE,
      event: 'broadcast',
      payload: {
        event: 'INSERT',
        payload: changePayload(id),
        type: 'broadcast',
        meta: { id: changePayload(id).id },
      },
      ref: null,
    }),
  };
}

async function broadcastEvidence(frames?: RawFrame[]): Promise<CellEvidence> {
  const e = await healthyEvidence();
  const token = await userToken({ email: 'live@chat.test' });
  return {
    ...e,
    portal: 'live',
    portalUrl: 'http://localhost:3102',
    channelTopic: undefined,
    table: { schema: 'public', name: 'messages', primaryKey: ['id'] },
    changes: { ...CHANGES },
    user: { email: 'live@chat.test', id: e.user.id },
    signIn: { ...e.signIn!, url: 'http://localhost:3102/rooms/1', shownEmail: 'Signed in as live@chat.test' },
    sockets: [
      socket(
        frames ?? [
          joinBroadcast(2060, token),
          reply(2110, 'ok', { postgres_changes: [] }),
          binaryBroadcast(2300, ROW),
          binaryBroadcast(2500, FENCE),
        ],
      ),
    ],
    inserts: [
      { rowId: ROW, sentAtMs: 2150, ackAtMs: 2190 },
      { rowId: FENCE, sentAtMs: 2350, ackAtMs: 2390, fence: true },
    ],
  };
}

describe('judgeCell: a Broadcast-from-Database cell', () => {
  it('passes on the private join of the computed topic, with the row from a binary kind-4 frame (vsn 2.0.0)', async () => {
    const result = judgeCell(await broadcastEvidence());
    expect(result.verdict, result.cause).toBe('PASS');
    expect(result.channelTopic).toBe(WIRE);
    expect(result.changes).toEqual(CHANGES);
    const stage = (name: string) => result.stages.find((s) => s.stage === name)!.summary;
    expect(stage('changes_ready')).toContain(
      "the server's read check on realtime.messages admitted the join",
    );
    expect(stage('event_delivered')).toBe(
      '1 of 1 inserted rows arrived as broadcast INSERT (private) on realtime:room:1.',
    );
    expect(result.latency.samplesMs).toEqual([150]);
    expect(stage('exactly_once')).toContain('a later fence row arrived after it');
  });

  it('passes with the same broadcast as a vsn 1.0.0 JSON frame', async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const e = await broadcastEvidence([
      joinBroadcast(2060, token),
      reply(2110, 'ok', { postgres_changes: [] }),
      jsonBroadcast(2300, ROW),
      jsonBroadcast(2500, FENCE),
    ]);
    e.sockets[0]!.url = e.sockets[0]!.url.replace('vsn=2.0.0', 'vsn=1.0.0');
    expect(judgeCell(e).verdict).toBe('PASS');
  });

  it('a broadcast of another event, or one without the row, is not the row', async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const result = judgeCell(
      await broadcastEvidence([
        joinBroadcast(2060, token),
        reply(2110, 'ok', { postgres_changes: [] }),
        binaryBroadcast(2300, ROW, 'UPDATE'),
        binaryBroadcast(2310, '7'),
      ]),
    );
    expect(result.verdict).toBe('NO_EVENT');
    expect(result.cause).toContain('no broadcast INSERT (private) for it came on realtime:room:1');
    expect(result.cause).toContain(
      '2 other broadcast(s) arrived on realtime:room:1 (UPDATE row 41, INSERT row 7)',
    );
  });

  it('JOIN_UNAUTHORIZED: the read check refused the user, quoted with the identity the join carried', async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const result = judgeCell(
      await broadcastEvidence([joinBroadcast(2060, token), reply(2110, 'error', { reason: UNAUTHORIZED })]),
    );
    expect(result.verdict).toBe('JOIN_UNAUTHORIZED');
    expect(result.failedStage).toBe('channel_joined');
    expect(result.cause).toContain(
      `The server refused the private channel ${WIRE} as authenticated live@chat.test`,
    );
    expect(result.cause).toContain(`"${UNAUTHORIZED}"`);
    expect(result.nextStep).toContain('SELECT policy on realtime.messages');
  });

  it('a private join sent before the session (anon) and refused is JOINED_AS_ANON, not a policy problem', async () => {
    const result = judgeCell(
      await broadcastEvidence([
        joinBroadcast(2060, undefined),
        reply(2110, 'error', { reason: UNAUTHORIZED }),
      ]),
    );
    expect(result.verdict).toBe('JOINED_AS_ANON');
    expect(result.cause).toContain('the URL apikey');
  });

  it('a read permission revoked after a token push fails stage 6 as JOIN_UNAUTHORIZED', async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const revoked = 'You no longer have permission to read from this Channel topic: room:1';
    const result = judgeCell(
      await broadcastEvidence([
        joinBroadcast(2060, token),
        reply(2110, 'ok', { postgres_changes: [] }),
        frame('received', 2120, [
          '6',
          null,
          WIRE,
          'system',
          { extension: 'system', status: 'error', message: revoked, channel: 'room:1' },
        ]),
      ]),
    );
    expect({ verdict: result.verdict, stage: result.failedStage }).toEqual({
      verdict: 'JOIN_UNAUTHORIZED',
      stage: 'changes_ready',
    });
    expect(result.cause).toContain(revoked);
  });

  it('the page joined the topic public while the trigger sends private: NO_EVENT names the mismatch', async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const result = judgeCell(
      await broadcastEvidence([
        joinBroadcast(2060, token, { private: false }),
        reply(2110, 'ok', { postgres_changes: [] }),
      ]),
    );
    expect(result.verdict).toBe('NO_EVENT');
    expect(result.stages.find((s) => s.stage === 'changes_ready')!.summary).toContain(
      'a public channel needs no read check',
    );
    expect(result.cause).toContain(`the page joined ${WIRE} with private: false`);
  });

  it("the row arriving on another joined topic names the trigger's topic as the difference", async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const other = 'realtime:rooms:1';
    const result = judgeCell(
      await broadcastEvidence([
        joinBroadcast(2060, token),
        reply(2110, 'ok', { postgres_changes: [] }),
        {
          ...joinBroadcast(2070, token, { ref: '7' }),
          data: (joinBroadcast(2070, token, { ref: '7' }).data as string).replace(WIRE, other),
        },
        binaryBroadcast(2300, ROW, 'INSERT', other),
      ]),
    );
    expect(result.verdict).toBe('NO_EVENT');
    expect(result.cause).toContain(`row ${ROW} did arrive as a broadcast on ${other}`);
  });

  it('no join of the computed topic: JOIN_TIMEOUT says which topic, and what the page joined', async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const e = await broadcastEvidence([
      joinBroadcast(2060, token),
      reply(2110, 'ok', { postgres_changes: [] }),
    ]);
    e.changes = { ...CHANGES, topic: 'room:2' };
    const result = judgeCell(e);
    expect(result.verdict).toBe('JOIN_TIMEOUT');
    expect(result.cause).toContain('a private channel joined to realtime:room:2');
    expect(result.cause).toContain('realtime:room:1 (private)');
  });

  it('operations: the UPDATE and DELETE of the row are matched by its key (DELETE by old_record)', async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const e = await broadcastEvidence([
      joinBroadcast(2060, token),
      reply(2110, 'ok', { postgres_changes: [] }),
      binaryBroadcast(2300, ROW),
      binaryBroadcast(2350, ROW, 'UPDATE'),
      binaryBroadcast(2400, ROW, 'DELETE'),
      binaryBroadcast(2600, FENCE),
    ]);
    e.changes = { kind: 'broadcast', topic: 'room:1', private: true };
    e.operations = ['INSERT', 'UPDATE', 'DELETE'];
    e.inserts = [
      { rowId: ROW, sentAtMs: 2150, ackAtMs: 2190 },
      { rowId: ROW, operation: 'UPDATE', sentAtMs: 2320, ackAtMs: 2330 },
      { rowId: ROW, operation: 'DELETE', sentAtMs: 2370, ackAtMs: 2380 },
      { rowId: FENCE, sentAtMs: 2450, ackAtMs: 2490, fence: true },
    ];
    const result = judgeCell(e);
    expect(result.verdict, result.cause).toBe('PASS');
    expect(result.stages.find((s) => s.stage === 'event_delivered')!.summary).toBe(
      '3 of 3 writes arrived on realtime:room:1: broadcast INSERT (private), broadcast UPDATE (private), broadcast DELETE (private).',
    );
    expect(result.latency.samplesMs).toEqual([150, 30, 30]);

    // The DELETE never came: named as the DELETE of the row, with what did arrive.
    e.sockets[0]!.frames = e.sockets[0]!.frames.filter((_, i) => i !== 4);
    const missing = judgeCell(e);
    expect(missing.verdict).toBe('NO_EVENT');
    expect(missing.cause).toContain(
      '1 of 3 writes never arrived: the DELETE of row 41 of public.messages was committed',
    );
    expect(missing.cause).toContain('no broadcast DELETE (private) for it came on realtime:room:1');
  });

  it('prefers the join whose private flag matches, and a broadcast join owes no further answer', async () => {
    const token = await userToken({ email: 'live@chat.test' });
    const kind = broadcastKind(CHANGES);
    const sockets = [
      socket([
        joinBroadcast(2060, token, { private: false, ref: '5' }),
        joinBroadcast(2061, token, { ref: '6' }),
        reply(2110, 'ok', {}, '6'),
      ]),
    ];
    expect(kind.findTopic(sockets)).toBe(WIRE);
    expect(unsettledSockets(sockets, WIRE, kind)).toEqual([]);
  });
});

describe('cellChanges: the config computes the topic from the cell row', () => {
  const target = (topic: (c: { row: Record<string, unknown> }) => string) =>
    ({
      configLabel: 'examples/chat/realtime-matrix.config.ts',
      env: 'local',
      portal: { name: 'live' },
      changes: { kind: 'broadcast', topic },
    }) as unknown as Target;
  const user = { id: 'u', email: 'live@chat.test' };

  it('runs the function on the row and fills the defaults', () => {
    expect(
      cellChanges(
        target(({ row }) => `room:${row['room_id']}`),
        { room_id: 1 },
        user,
      ),
      // No event configured: each operation's own name, as broadcast_changes sends it.
    ).toEqual({ kind: 'broadcast', topic: 'room:1', private: true });
  });

  it('a topic built from a value the factory does not set is the config error, named', () => {
    expect(() =>
      cellChanges(
        target(({ row }) => `room:${row['room']}`),
        { room_id: 1 },
        user,
      ),
    ).toThrow(
      /examples\/chat\/realtime-matrix\.config\.ts: changes\.topic \(portal live\) returned "room:undefined" for the row \{"room_id":1\}/,
    );
    expect(() =>
      cellChanges(
        target(() => {
          throw new Error('boom');
        }),
        {},
        user,
      ),
    ).toThrow('changes.topic (portal live) threw for the row {}: boom');
  });

  it('postgres_changes needs nothing computed', () => {
    expect(cellChanges({ changes: { kind: 'postgres_changes' } } as unknown as Target, {}, user)).toEqual({
      kind: 'postgres_changes',
    });
  });
});
