import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { DEMO } from '../../stack/keys.ts';
import { startTestStack } from '../support/stack.ts';
import {
  type MountedRealtime,
  mountRealtime,
  rawConnect,
  rawOpen,
  ScriptedEngine,
  sbClient,
  subscribe,
  v1,
  v2,
} from './realtime-support.ts';

let stack: Stack;
let rt: MountedRealtime;
const engine = new ScriptedEngine();

beforeAll(async () => {
  stack = await startTestStack();
  rt = await mountRealtime(stack, { engine });
});
afterAll(async () => {
  await rt?.stop();
  await stack?.stop();
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const unsigned = (claims: Record<string, unknown>) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
const nowS = () => Math.floor(Date.now() / 1000);

describe('upgrade checks (refused before 101, HEAD 2.129 statuses and bodies)', () => {
  const cases: [string, () => Promise<string | undefined>, number, string][] = [
    ['no apikey', async () => undefined, 401, 'API key is missing'],
    ['a key that is not a JWT', async () => 'not-a-jwt', 401, 'The token provided is not a valid JWT'],
    [
      'an expired JWT',
      () => stack.local.ctx.jwt.sign({ role: 'anon', exp: nowS() - 60 }),
      401,
      'Token has expired',
    ],
    [
      'a JWT without role',
      () => stack.local.ctx.jwt.sign({ exp: nowS() + 60 }),
      401,
      'Fields `role` and `exp` are required in JWT',
    ],
    [
      'a JWT signed with another secret',
      async () => {
        const { JwtKeys } = await import('../../stack/jwt.ts');
        return new JwtKeys('another-secret-another-secret-another-secret').sign({
          role: 'anon',
          exp: nowS() + 60,
        });
      },
      401,
      'Failed to validate JWT signature',
    ],
    [
      'an alg:none token',
      async () => unsigned({ role: 'service_role', exp: nowS() + 600 }),
      401,
      'Failed to generate JWT signer, check your JWT secret or JWKS configuration',
    ],
  ];
  it.each(cases)('refuses %s', async (_name, key, status, error) => {
    const apikey = await key();
    const query = apikey === undefined ? '?vsn=2.0.0' : `?apikey=${encodeURIComponent(apikey)}&vsn=2.0.0`;
    const result = await rawConnect(`${rt.wsUrl}${query}`);
    expect(result).toHaveProperty('refused');
    if (!('refused' in result)) return;
    expect(result.refused.status).toBe(status);
    expect(JSON.parse(result.refused.body)).toEqual({ error });
    expect(result.refused.headers['content-type']).toMatch(/application\/json/);
  });

  it('takes x-api-key over the query param, as user_socket.ex does', async () => {
    const result = await rawConnect(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`, {
      headers: { 'x-api-key': 'garbage' },
    });
    expect('refused' in result && result.refused.status).toBe(401);
  });

  it('maps sb_publishable / sb_secret keys to their JWTs', async () => {
    for (const key of [DEMO.publishableKey, DEMO.secretKey]) {
      const ws = await rawOpen(`${rt.wsUrl}?apikey=${key}&vsn=2.0.0`);
      ws.close();
    }
  });

  it('refuses an unknown path under /realtime/v1 with 404', async () => {
    const result = await rawConnect(
      `${rt.url.replace('http', 'ws')}/realtime/v1/nope?apikey=${DEMO.anonKey}`,
    );
    expect('refused' in result && result.refused.status).toBe(404);
  });

  it('refuses an unsupported vsn', async () => {
    const result = await rawConnect(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=3.0.0`);
    expect('refused' in result && result.refused).toMatchObject({ status: 403 });
  });

  it('refuses an Origin outside the allow-list with 403 (prod-like strict origin)', async () => {
    const strict = await mountRealtime(stack, {
      config: { allowedOrigins: ['https://client.prod.localhost'] },
    });
    try {
      const bad = await rawConnect(`${strict.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`, {
        headers: { origin: 'https://agent.prod.localhost' },
      });
      expect('refused' in bad && bad.refused.status).toBe(403);
      expect('refused' in bad && JSON.parse(bad.refused.body)).toEqual({
        error: 'Origin not allowed: https://agent.prod.localhost',
      });
      const good = await rawOpen(`${strict.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`, {
        origin: 'https://client.prod.localhost',
      });
      good.close();
    } finally {
      await strict.stop();
    }
  });
});

describe.each(['2.0.0', '1.0.0'] as const)('vsn %s', (vsn) => {
  const match = vsn === '2.0.0' ? v2 : v1;
  const frame = (
    joinRef: string | null,
    ref: string | null,
    topic: string,
    event: string,
    payload: unknown,
  ) =>
    vsn === '2.0.0'
      ? [joinRef, ref, topic, event, payload]
      : { join_ref: joinRef, ref, topic, event, payload };
  const payloadOf = (f: unknown) => (Array.isArray(f) ? f[4] : (f as { payload: unknown }).payload);

  it('answers heartbeats on topic phoenix', async () => {
    const ws = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=${vsn}`);
    ws.send(frame(null, '8', 'phoenix', 'heartbeat', {}));
    const replyFrame = await ws.next(match('phoenix', 'phx_reply', '8'));
    if (vsn === '2.0.0')
      expect(replyFrame).toEqual([null, '8', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
    else
      expect(replyFrame).toEqual({
        topic: 'phoenix',
        event: 'phx_reply',
        ref: '8',
        payload: { status: 'ok', response: {} },
      });
    ws.close();
  });

  it('joins with supabase-js: SUBSCRIBED, ids echoed in order, then "Subscribed to PostgreSQL"', async () => {
    const sb = sbClient(rt.url, DEMO.anonKey, vsn);
    const system: Record<string, unknown>[] = [];
    const gotSystem = new Promise<void>((resolve) => {
      const channel = sb
        .channel(`join-${vsn}`)
        .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'todos' }, () => {})
        .on('postgres_changes', { event: '*', schema: 'public', table: 'todos', filter: 'id=eq.1' }, () => {})
        .on('system', {}, (m) => {
          system.push(m);
          resolve();
        });
      void subscribe(channel).then((s) => expect(s.status).toBe('SUBSCRIBED'));
    });
    await gotSystem;
    expect(system[0]).toEqual({
      extension: 'postgres_changes',
      status: 'ok',
      message: 'Subscribed to PostgreSQL',
      channel: `join-${vsn}`,
    });
    const sub = engine.history.find(
      (s) => s.bindings[0]?.params['table'] === 'todos' && s.key.includes(`join-${vsn}`),
    );
    expect(sub?.claims.role).toBe('anon');
    expect(sub?.bindings.map((b) => b.params)).toEqual([
      { event: 'INSERT', schema: 'public', table: 'todos' },
      { event: '*', schema: 'public', table: 'todos', filter: 'id=eq.1' },
    ]);
    expect(sub?.bindings.every((b) => Number.isInteger(b.id))).toBe(true);
    await sb.removeAllChannels();
    expect(engine.live.has(sub!.key)).toBe(false);
  });

  it('replies "unmatched topic" to joins outside realtime: and to pushes on unjoined topics', async () => {
    const ws = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=${vsn}`);
    ws.send(frame('1', '1', 'room:x', 'phx_join', {}));
    ws.send(
      frame('2', '2', 'realtime:never-joined', 'broadcast', { type: 'broadcast', event: 'e', payload: {} }),
    );
    for (const [topic, ref] of [
      ['room:x', '1'],
      ['realtime:never-joined', '2'],
    ] as const) {
      const f = await ws.next(match(topic, 'phx_reply', ref));
      expect(payloadOf(f)).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
    }
    ws.close();
  });

  it('refuses an empty topic name with TopicNameRequired', async () => {
    const ws = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=${vsn}`);
    ws.send(frame('3', '3', 'realtime:', 'phx_join', { config: {} }));
    const f = await ws.next(match('realtime:', 'phx_reply', '3'));
    expect(payloadOf(f)).toEqual({
      status: 'error',
      response: { reason: 'TopicNameRequired: You must provide a topic name' },
    });
    ws.close();
  });

  it('phx_leave: reply ok, then phx_close with ref = join_ref; a second join of a topic closes the first', async () => {
    const ws = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=${vsn}`);
    ws.send(frame('4', '4', 'realtime:leave', 'phx_join', { config: {} }));
    expect(payloadOf(await ws.next(match('realtime:leave', 'phx_reply', '4')))).toEqual({
      status: 'ok',
      response: { postgres_changes: [] },
    });
    ws.send(frame('5', '5', 'realtime:leave', 'phx_join', { config: {} }));
    await ws.next(match('realtime:leave', 'phx_close', '4'));
    await ws.next(match('realtime:leave', 'phx_reply', '5'));
    ws.send(frame('5', '6', 'realtime:leave', 'phx_leave', {}));
    expect(payloadOf(await ws.next(match('realtime:leave', 'phx_reply', '6')))).toEqual({
      status: 'ok',
      response: {},
    });
    await ws.next(match('realtime:leave', 'phx_close', '5'));
    ws.close();
  });

  it('closes only the socket that sends junk; other clients keep working', async () => {
    const healthy = sbClient(rt.url, DEMO.anonKey, vsn);
    const channel = healthy.channel(`healthy-${vsn}`, { config: { broadcast: { self: true } } });
    const got: unknown[] = [];
    channel.on('broadcast', { event: 'ping' }, (m) => got.push(m.payload));
    expect((await subscribe(channel)).status).toBe('SUBSCRIBED');

    for (const junk of ['{nope', '[1,2]', Buffer.from([9, 9, 9]), '"just a string"']) {
      const bad = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=${vsn}`);
      bad.send(junk);
      const closed = await bad.closed;
      expect(closed.code).toBe(1011);
      expect(closed.reason).not.toBe('');
    }

    const big = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=${vsn}`);
    big.send('x'.repeat(5_000_001));
    expect((await big.closed).code).toBe(1009);

    const received = new Promise<void>((resolve) =>
      channel.on('broadcast', { event: 'ping' }, () => resolve()),
    );
    expect(await channel.send({ type: 'broadcast', event: 'ping', payload: { n: 1 } })).toBe('ok');
    await received;
    expect(got).toContainEqual({ n: 1 });
    await healthy.removeAllChannels();
  });

  it('drops unknown events on a joined channel without a reply, as realtime_channel.ex does', async () => {
    const ws = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=${vsn}`);
    ws.send(frame('7', '7', 'realtime:unknown', 'phx_join', { config: {} }));
    await ws.next(match('realtime:unknown', 'phx_reply', '7'));
    ws.send(frame('7', '8', 'realtime:unknown', 'made_up', {}));
    ws.send(frame(null, '9', 'phoenix', 'heartbeat', {}));
    await ws.next(match('phoenix', 'phx_reply', '9'));
    // Frames are handled in order: had "made_up" been answered, its reply would precede this one.
    expect(ws.frames.some((f) => match('realtime:unknown', 'phx_reply', '8')(f))).toBe(false);
    ws.close();
  });
});

describe('slow consumers', () => {
  it('closes a socket that stops reading once its send buffer overflows; others are unaffected', async () => {
    const small = await mountRealtime(stack, { server: { sendBufferLimit: 256 * 1024 } });
    try {
      const stalled = await rawOpen(`${small.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`);
      const reader = await rawOpen(`${small.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`);
      for (const ws of [stalled, reader]) {
        ws.send(['1', '1', 'realtime:flood', 'phx_join', { config: {} }]);
        await ws.next(v2('realtime:flood', 'phx_reply', '1'));
      }
      // Stop reading: the kernel buffers fill, then ws.bufferedAmount grows on the server.
      (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const blob = { text: 'y'.repeat(64 * 1024) };
      const open = () => small.service.server.connectionCount();
      let sent = 0;
      // Condition: the server dropped the stalled socket (the stalled client, not reading, cannot
      // see the close itself). The cap only turns a regression into a failure instead of a hang.
      while (open() === 2 && sent < 3000) {
        const res = await fetch(`${small.url}/realtime/v1/api/broadcast`, {
          method: 'POST',
          headers: { apikey: DEMO.anonKey, 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ topic: 'flood', event: 'blob', payload: { ...blob, sent } }] }),
        });
        expect(res.status).toBe(202);
        sent++;
      }
      expect(open()).toBe(1);
      // The reader got every message, in order, up to the last one sent.
      await reader.next((f) => Array.isArray(f) && f[3] === 'broadcast' && f[4].payload?.sent === sent - 1);
      expect(small.service.server.connectionCount()).toBe(1);
      reader.close();
    } finally {
      await small.stop();
    }
  });
});

describe('stopping', () => {
  it('closes every socket with 1001 and resolves even when a peer never answers the close', async () => {
    const own = await mountRealtime(stack);
    const polite = await rawOpen(`${own.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`);
    const deaf = await rawOpen(`${own.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`);
    (deaf.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await own.stop();
    expect(await polite.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(own.service.server.connectionCount()).toBe(0);
    deaf.close();
  });
});
