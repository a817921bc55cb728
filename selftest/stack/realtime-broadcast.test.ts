import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { DEMO } from '../../stack/keys.ts';
import { apiUrl, client, startTestStack } from '../support/stack.ts';
import { first, subscribe } from './realtime-support.ts';

/** Broadcast and presence between unmodified supabase-js clients through the whole stack. */
let stack: Stack;
const clients: SupabaseClient[] = [];

beforeAll(async () => {
  stack = await startTestStack();
});
afterEach(async () => {
  for (const sb of clients.splice(0)) await sb.removeAllChannels();
});
afterAll(async () => {
  await stack?.stop();
});

function sb(vsn: '1.0.0' | '2.0.0'): SupabaseClient {
  const c = client(stack, DEMO.anonKey, vsn);
  clients.push(c);
  return c;
}

type Received = { event: string; payload: unknown };

/** A channel that records every broadcast it receives, with a wait for one. */
function recorder(channel: RealtimeChannel) {
  const got: Received[] = [];
  const waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  channel.on('broadcast', { event: '*' }, (m) => {
    const r = { event: m.event, payload: m.payload };
    got.push(r);
    for (const w of [...waiters]) {
      if (w.match(r)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  });
  return {
    got,
    next(match: (r: Received) => boolean): Promise<Received> {
      const seen = got.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

describe.each(['2.0.0', '1.0.0'] as const)('vsn %s', (vsn) => {
  it('broadcast with self and ack reaches the sender and the other client', async () => {
    const topic = `room-${vsn}-${crypto.randomUUID()}`;
    const a = sb(vsn).channel(topic, { config: { broadcast: { self: true, ack: true } } });
    const b = sb(vsn).channel(topic);
    const ra = recorder(a);
    const rb = recorder(b);
    expect((await subscribe(a)).status).toBe('SUBSCRIBED');
    expect((await subscribe(b)).status).toBe('SUBSCRIBED');
    // With ack the promise resolves only on the server's phx_reply (else "timed out").
    expect(await a.send({ type: 'broadcast', event: 'cursor', payload: { x: 1 } })).toBe('ok');
    expect(await ra.next((r) => r.event === 'cursor')).toEqual({ event: 'cursor', payload: { x: 1 } });
    expect(await rb.next((r) => r.event === 'cursor')).toEqual({ event: 'cursor', payload: { x: 1 } });
  });

  it('without self the sender does not hear itself', async () => {
    const topic = `quiet-${vsn}-${crypto.randomUUID()}`;
    const a = sb(vsn).channel(topic);
    const b = sb(vsn).channel(topic);
    const ra = recorder(a);
    const rb = recorder(b);
    await subscribe(a);
    await subscribe(b);
    await a.send({ type: 'broadcast', event: 'first', payload: {} });
    await rb.next((r) => r.event === 'first');
    await b.send({ type: 'broadcast', event: 'second', payload: {} });
    // The server fans out a's frame before it reads b's, so had "first" echoed it would be here.
    await ra.next((r) => r.event === 'second');
    expect(ra.got.map((r) => r.event)).toEqual(['second']);
  });

  it('REST: httpSend and the not-joined send() fallback are answered 202 and delivered', async () => {
    const topic = `rest-${vsn}-${crypto.randomUUID()}`;
    const listener = sb(vsn).channel(topic);
    const r = recorder(listener);
    await subscribe(listener);
    const sender = sb(vsn).channel(topic);
    expect(await sender.httpSend('via-http', { n: 1 })).toEqual({ success: true });
    expect(await r.next((m) => m.event === 'via-http')).toEqual({ event: 'via-http', payload: { n: 1 } });
    // Not subscribed: supabase-js posts to /api/broadcast.
    expect(await sender.send({ type: 'broadcast', event: 'via-batch', payload: { n: 2 } })).toBe('ok');
    expect(await r.next((m) => m.event === 'via-batch')).toEqual({ event: 'via-batch', payload: { n: 2 } });
  });

  it('presence: two clients see each other in sync, and a leave when one untracks', async () => {
    const topic = `presence-${vsn}-${crypto.randomUUID()}`;
    const a = sb(vsn).channel(topic, { config: { presence: { key: 'alice' } } });
    const b = sb(vsn).channel(topic, { config: { presence: { key: 'bob' } } });
    const syncedWith = (ch: RealtimeChannel, keys: string[]) =>
      first<void>((cb) => {
        ch.on('presence', { event: 'sync' }, () => {
          const state = ch.presenceState();
          if (keys.every((k) => k in state) && Object.keys(state).length === keys.length) cb();
        });
      });
    const aSeesBoth = syncedWith(a, ['alice', 'bob']);
    const bSeesBoth = syncedWith(b, ['alice', 'bob']);
    const aLeft = first<{ key: string }>((cb) => {
      b.on('presence', { event: 'leave' }, (e) => cb(e as never));
    });
    await subscribe(a);
    await subscribe(b);
    expect(await a.track({ user: 'alice' })).toBe('ok');
    expect(await b.track({ user: 'bob' })).toBe('ok');
    await aSeesBoth;
    await bSeesBoth;
    expect(a.presenceState()['bob']).toEqual([
      expect.objectContaining({ user: 'bob', presence_ref: expect.any(String) }),
    ]);
    expect(await a.untrack()).toBe('ok');
    expect((await aLeft).key).toBe('alice');
  });
});

describe('across serializers', () => {
  it('a vsn 2.0.0 binary broadcast reaches a vsn 1.0.0 client as JSON, and back', async () => {
    const topic = `mixed-${crypto.randomUUID()}`;
    const v2 = sb('2.0.0').channel(topic);
    const v1 = sb('1.0.0').channel(topic);
    const r2 = recorder(v2);
    const r1 = recorder(v1);
    await subscribe(v2);
    await subscribe(v1);
    await v2.send({ type: 'broadcast', event: 'from-v2', payload: { ok: true } });
    expect(await r1.next((m) => m.event === 'from-v2')).toEqual({ event: 'from-v2', payload: { ok: true } });
    await v1.send({ type: 'broadcast', event: 'from-v1', payload: { ok: 1 } });
    expect(await r2.next((m) => m.event === 'from-v1')).toEqual({ event: 'from-v1', payload: { ok: 1 } });
  });

  it('refuses the broadcast API without a valid key: 401 {"message":"Unauthorized"}', async () => {
    const res = await fetch(`${apiUrl(stack)}/realtime/v1/api/broadcast`, {
      method: 'POST',
      headers: {
        apikey: DEMO.anonKey,
        authorization: 'Bearer not-a-jwt',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ messages: [{ topic: 't', event: 'e', payload: {} }] }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthorized' });
    const invalid = await fetch(`${apiUrl(stack)}/realtime/v1/api/broadcast`, {
      method: 'POST',
      headers: { apikey: DEMO.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [] }),
    });
    expect(invalid.status).toBe(422);
  });
});
