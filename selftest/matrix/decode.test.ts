import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, type PhoenixMessage } from '../../fixtures/phoenix/decode.ts';
import type { Stack } from '../../stack/index.ts';
import { apiUrl, client, startTestStack } from '../support/stack.ts';
import { type CapturedFrame, recordingTransport } from './support/recording-transport.ts';

const decoded = (data: string | Uint8Array): PhoenixMessage => {
  const result = decodeFrame(data);
  if (!result.ok) throw new Error(`did not decode: ${result.reason}`);
  return result.message;
};

describe('Phoenix decoder on the verbatim frames of PROTOCOL.md', () => {
  it('vsn 2.0.0 arrays: join, reply, system, postgres_changes, heartbeat', () => {
    expect(
      decoded(
        '["6","6","realtime:room1","phx_join",{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[{"event":"*","schema":"public","table":"todos","filter":"id=eq.1"}],"private":false}}]',
      ),
    ).toMatchObject({ kind: 'join', joinRef: '6', ref: '6', topic: 'realtime:room1', encoding: 'v2-array' });
    expect(decoded('[null,"8","phoenix","heartbeat",{}]')).toMatchObject({
      kind: 'heartbeat',
      joinRef: null,
      ref: '8',
    });
    expect(decoded('[null,"8","phoenix","phx_reply",{"status":"ok","response":{}}]').kind).toBe('reply');
    expect(
      decoded(
        '[null,null,"realtime:room1","postgres_changes",{"ids":[30636876],"data":{"schema":"public","table":"todos","type":"UPDATE","commit_timestamp":"2026-01-01T12:00:00.123Z","columns":[],"record":{"id":1},"old_record":{"id":1},"errors":null}}]',
      ),
    ).toMatchObject({ kind: 'postgres_changes', joinRef: null, ref: null });
    expect(decoded('["6","7","realtime:room1","access_token",{"access_token":"x"}]').kind).toBe(
      'access_token',
    );
    expect(decoded('["6","6","realtime:room1","phx_close",{}]').kind).toBe('close');
    expect(decoded('["6","6","realtime:room1","phx_error",{}]').kind).toBe('error');
    expect(decoded('["6","11","realtime:room1","phx_leave",{}]').kind).toBe('leave');
    expect(decoded('[null,null,"realtime:room2","presence_diff",{"joins":{},"leaves":{}}]').kind).toBe(
      'presence',
    );
  });

  it('vsn 1.0.0 objects', () => {
    expect(
      decoded(
        '{"topic":"realtime:room1","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"6","join_ref":"6"}',
      ),
    ).toMatchObject({ kind: 'reply', joinRef: '6', ref: '6', encoding: 'v1-object' });
  });

  it('binary kind 3 (the user broadcast push of PROTOCOL.md §1.2, byte for byte)', () => {
    const bytes = new Uint8Array([3, 1, 1, 14, 6, 0, 1, ...Buffer.from('69realtime:room1cursor{"x":1}')]);
    expect(decoded(bytes)).toEqual({
      kind: 'broadcast',
      joinRef: '6',
      ref: '9',
      topic: 'realtime:room1',
      event: 'broadcast',
      payload: { type: 'broadcast', event: 'cursor', payload: { x: 1 } },
      encoding: 'binary-push',
    });
  });

  it('binary kind 4 with metadata', () => {
    const meta = '{"id":"m1"}';
    const bytes = new Uint8Array([
      4,
      14,
      6,
      meta.length,
      1,
      ...Buffer.from(`realtime:room1cursor${meta}{"x":2}`),
    ]);
    expect(decoded(bytes)).toMatchObject({
      kind: 'broadcast',
      joinRef: null,
      topic: 'realtime:room1',
      payload: { type: 'broadcast', event: 'cursor', payload: { x: 2 }, meta: { id: 'm1' } },
      encoding: 'binary-broadcast',
    });
  });

  it('says why a frame does not decode, never throws', () => {
    expect(decodeFrame('not json')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^not JSON: /),
    });
    expect(decodeFrame('[1,2,3]')).toEqual({
      ok: false,
      reason: 'vsn 2.0.0 frame must have 5 elements, got 3',
    });
    expect(decodeFrame(new Uint8Array([0, 1, 2]))).toEqual({
      ok: false,
      reason:
        'binary kind 0 is not one realtime-js 2.119 speaks (it knows 3 = broadcast push, 4 = broadcast)',
    });
    expect(decodeFrame(new Uint8Array([4, 200, 1, 0, 1]))).toEqual({
      ok: false,
      reason: 'binary kind 4 lengths run past the end of the frame',
    });
  });
});

describe('Phoenix decoder on frames captured live from supabase-js 2.119 against the stack', () => {
  let stack: Stack;
  const clients: SupabaseClient[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    for (const c of clients) await c.removeAllChannels();
    await stack?.stop();
  });

  function recordingClient(frames: CapturedFrame[], vsn: '1.0.0' | '2.0.0'): SupabaseClient {
    const sb = createClient(apiUrl(stack), stack.local.config.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: recordingTransport(frames) as never, vsn },
    });
    clients.push(sb);
    return sb;
  }

  function subscribed(channel: RealtimeChannel): Promise<void> {
    return new Promise((resolve, reject) =>
      channel.subscribe((status, error) => {
        if (status === 'SUBSCRIBED') resolve();
        else if (status !== 'CLOSED') reject(new Error(`subscribe ended ${status}: ${error?.message}`));
      }),
    );
  }

  it.each(['2.0.0', '1.0.0'] as const)(
    'vsn %s: a signed-in postgres_changes subscription, every frame decodes',
    async (vsn) => {
      const frames: CapturedFrame[] = [];
      const sb = recordingClient(frames, vsn);
      const signIn = await sb.auth.signInWithPassword({
        email: 'client@helpdesk.test',
        password: 'helpdesk-demo-password',
      });
      expect(signIn.error).toBeNull();
      const userId = signIn.data.user!.id;
      let ready!: () => void;
      let arrived!: (id: unknown) => void;
      const readyP = new Promise<void>((r) => {
        ready = r;
      });
      const title = `decoder ${crypto.randomUUID()}`;
      const arrivedP = new Promise<unknown>((r) => {
        arrived = r;
      });
      const channel = sb
        .channel('public:tickets')
        .on('postgres_changes', { event: '*', schema: 'public', table: 'tickets' }, (p) => {
          if ((p.new as Record<string, unknown>)['title'] === title)
            arrived((p.new as Record<string, unknown>)['id']);
        })
        .on('system', {}, (m: { status?: string }) => {
          if (m.status === 'ok') ready();
        });
      await subscribed(channel);
      await readyP;
      const admin = client(stack, stack.local.config.serviceRoleKey);
      const insert = await admin.from('tickets').insert({ title, created_by: userId }).select('id').single();
      expect(insert.error).toBeNull();
      expect(await arrivedP).toBe(insert.data!.id);

      const messages = frames.map((f) => ({ direction: f.direction, ...decoded(f.data) }));
      const kinds = new Set(messages.map((m) => `${m.direction} ${m.kind}`));
      for (const k of ['sent join', 'received reply', 'received system', 'received postgres_changes']) {
        expect(kinds, `${k} among ${[...kinds].join(', ')}`).toContain(k);
      }
      expect(messages.every((m) => m.encoding === (vsn === '2.0.0' ? 'v2-array' : 'v1-object'))).toBe(true);
      const join = messages.find((m) => m.kind === 'join' && m.topic === 'realtime:public:tickets')!;
      const reply = messages.find((m) => m.kind === 'reply' && m.ref === join.ref)!;
      expect(reply.payload).toMatchObject({
        status: 'ok',
        response: { postgres_changes: [{ table: 'tickets' }] },
      });
      const event = messages.find(
        (m) =>
          m.kind === 'postgres_changes' &&
          (m.payload as { data: { record?: { id?: unknown } } }).data.record?.id === insert.data!.id,
      )!;
      expect(event.payload).toMatchObject({
        data: { type: 'INSERT', record: { id: insert.data!.id, title } },
      });
      await admin.from('tickets').delete().eq('id', insert.data!.id);
    },
  );

  it('broadcast: kind 3 as the sender pushes it, kind 4 as a vsn 2.0.0 receiver gets it', async () => {
    const sent: CapturedFrame[] = [];
    const received: CapturedFrame[] = [];
    const sender = recordingClient(sent, '2.0.0').channel('room1');
    const receiverChannel = recordingClient(received, '2.0.0').channel('room1');
    const got = new Promise<unknown>((resolve) =>
      receiverChannel.on('broadcast', { event: 'cursor' }, resolve),
    );
    await subscribed(receiverChannel);
    await subscribed(sender);
    expect(await sender.send({ type: 'broadcast', event: 'cursor', payload: { x: 1 } })).toBe('ok');
    expect(await got).toMatchObject({ event: 'cursor', payload: { x: 1 } });

    const push = sent.filter((f) => typeof f.data !== 'string').map((f) => decoded(f.data));
    expect(push).toEqual([
      expect.objectContaining({
        kind: 'broadcast',
        topic: 'realtime:room1',
        encoding: 'binary-push',
        payload: { type: 'broadcast', event: 'cursor', payload: { x: 1 } },
      }),
    ]);
    const delivered = received.filter((f) => f.direction === 'received').map((f) => decoded(f.data));
    expect(delivered.find((m) => m.kind === 'broadcast')).toMatchObject({
      topic: 'realtime:room1',
      payload: { type: 'broadcast', event: 'cursor', payload: { x: 1 } },
    });
  });
});
