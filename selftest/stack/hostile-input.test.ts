/**
 * Issue 22's reproductions, each sent by a real client over a real socket to a whole stack: five
 * frames that used to end the process, one that poisoned a presence topic, a filter that stopped
 * delivery for every subscriber, and a join whose error message took exponential time to render.
 * After each one the stack must still answer REST, and a signed-in control client must still get
 * every event it is owed.
 */
import { connect } from 'node:net';
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { apiUrl, client, startTestStack } from '../support/stack.ts';
import { type RawSocket, rawConnect, rawOpen, subscribe, v1, v2 } from './realtime-support.ts';

let stack: Stack;
let admin: SupabaseClient;
let control: { sb: SupabaseClient; userId: string; channel: RealtimeChannel; seen: Set<string> };
let onSeen: (() => void)[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  admin = client(stack, stack.local.config.serviceRoleKey);
  const email = `control-${crypto.randomUUID()}@example.test`;
  const password = 'hostile-input-control';
  const created = await admin.auth.admin.createUser({ email, password, email_confirm: true });
  if (created.error) throw new Error(`creating the control user failed: ${created.error.message}`);
  const sb = client(stack, stack.local.config.anonKey, '2.0.0');
  const signedIn = await sb.auth.signInWithPassword({ email, password });
  if (signedIn.error) throw new Error(`signing the control user in failed: ${signedIn.error.message}`);
  const userId = created.data.user.id;
  const seen = new Set<string>();
  const channel = sb
    .channel('control')
    .on(
      'postgres_changes',
      { event: 'INSERT', schema: 'public', table: 'todos', filter: `user_id=eq.${userId}` },
      (p) => {
        seen.add(String((p.new as { task: string }).task));
        for (const w of onSeen) w();
      },
    );
  const status = await subscribe(channel);
  if (status.status !== 'SUBSCRIBED') throw new Error(`control channel: ${status.status} ${status.err}`);
  control = { sb, userId, channel, seen };
});

afterAll(async () => {
  await control?.sb.removeAllChannels();
  await stack?.stop();
});

/** REST answers, and an insert for the control user reaches its channel. */
async function stillServing(): Promise<void> {
  const rest = await fetch(`${apiUrl(stack)}/rest/v1/todos?select=id&limit=1`, {
    headers: { apikey: stack.local.config.anonKey },
  });
  expect(rest.status).toBe(200);
  const task = `owed ${crypto.randomUUID()}`;
  const arrived = new Promise<void>((resolve) => {
    const check = () => {
      if (control.seen.has(task)) resolve();
    };
    onSeen.push(check);
  });
  const insert = await admin.from('todos').insert({ task, user_id: control.userId });
  expect(insert.error).toBeNull();
  await arrived;
  onSeen = [];
}

const socketUrl = (vsn: '1.0.0' | '2.0.0') =>
  `${apiUrl(stack).replace('http', 'ws')}/realtime/v1/websocket?apikey=${stack.local.config.anonKey}&vsn=${vsn}`;

async function expectClosed(ws: RawSocket, code: number): Promise<string> {
  const closed = await ws.closed;
  expect(closed.code).toBe(code);
  expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
  return closed.reason;
}

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
/** `{"v":{"v":…{"ok":1}…}}` as text: JSON.stringify itself overflows at these depths. */
const nested = (n: number): string => `${'{"v":'.repeat(n)}{"ok":1}${'}'.repeat(n)}`;

describe('1. a close reason with non-ASCII text fits in 123 bytes', () => {
  it.each([
    ['2.0.0', JSON.stringify({ [`${'é'.repeat(80)}`]: 1 })],
    ['1.0.0', JSON.stringify(['é'.repeat(80)])],
  ] as const)('vsn %s: the socket is closed 1011, the stack serves on', async (vsn, frame) => {
    const ws = await rawOpen(socketUrl(vsn));
    ws.send(frame);
    const reason = await expectClosed(ws, 1011);
    expect(reason).toMatch(vsn === '2.0.0' ? /^EXPECTED_V2_ARRAY: / : /^EXPECTED_V1_OBJECT: /);
    await stillServing();
  });
});

describe('2. an undecodable frame nested 6,000 deep', () => {
  it.each(['2.0.0', '1.0.0'] as const)('vsn %s: closed 1011 as too deep', async (vsn) => {
    const ws = await rawOpen(socketUrl(vsn));
    ws.send(deep(6000));
    expect(await expectClosed(ws, 1011)).toMatch(/^TOO_DEEP: text frame nests deeper than 512 levels/);
    await stillServing();
  });

  it('a frame within the limit is still a frame', async () => {
    const ws = await rawOpen(socketUrl('2.0.0'));
    ws.send(`["1","1","realtime:deep-ok","phx_join",{"config":{},"deep":${nested(400)}}]`);
    await ws.next(v2('realtime:deep-ok', 'phx_reply', '1'));
    ws.close();
  });
});

describe('3. a vsn 1.0.0 ref that is an object', () => {
  it.each(['ref', 'join_ref'])('%s {"toString":0} closes that socket 1011', async (field) => {
    const ws = await rawOpen(socketUrl('1.0.0'));
    const frame: Record<string, unknown> = { topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '1' };
    frame[field] = { toString: 0 };
    ws.send(frame);
    expect(await expectClosed(ws, 1011)).toMatch(/^INVALID_REF: /);
    await stillServing();
  });

  it('numeric refs, as older clients send them, are still answered', async () => {
    const ws = await rawOpen(socketUrl('1.0.0'));
    ws.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: 7 });
    expect(await ws.next(v1('phoenix', 'phx_reply', '7'))).toMatchObject({ payload: { status: 'ok' } });
    ws.close();
  });
});

describe('found by the fuzz suite', () => {
  it.each([
    ['select', `select=${'a('.repeat(3000)}id${')'.repeat(3000)}`],
    ['or', `or=(${'and('.repeat(2000)}id.eq.1${')'.repeat(2000)})`],
  ])(
    'REST refuses %s nested thousands deep as a parse error (a deep select overflowed the parser: 500)',
    async (_what, query) => {
      const res = await fetch(`${apiUrl(stack)}/rest/v1/todos?${query}`, {
        headers: { apikey: stack.local.config.anonKey },
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; details: string };
      expect(body.code).toBe('PGRST100');
      expect(body.details).toMatch(/expecting at most 64 nested levels$/);
      await stillServing();
    },
  );

  it('a presence key that is an object joins with a generated key, as hosted falls back to its default', async () => {
    const ws = await rawOpen(socketUrl('2.0.0'));
    ws.send(
      '["1","1","realtime:x","phx_join",{"config":{"presence":{"key":{"toString":0},"enabled":true}}}]',
    );
    expect(await ws.next(v2('realtime:x', 'phx_reply', '1'))).toMatchObject([
      '1',
      '1',
      'realtime:x',
      'phx_reply',
      { status: 'ok' },
    ]);
    ws.send(['1', '2', 'realtime:x', 'presence', { type: 'presence', event: 'track', payload: { here: 1 } }]);
    const diff = (await ws.next(v2('realtime:x', 'presence_diff'))) as unknown[];
    expect(Object.keys((diff[4] as { joins: object }).joins)).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36}$/),
    ]);
    ws.close();
  });
});

/** One raw HTTP exchange on a fresh TCP connection; resolves with everything the server sent. */
function rawHttp(request: string): Promise<string> {
  const { hostname, port } = new URL(apiUrl(stack));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.write(request);
  });
}

describe('4. an upgrade request whose target is not a URL path', () => {
  const upgrade = (target: string) =>
    `GET ${target} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

  it.each([
    ['//', 404],
    ['//realtime/v1/websocket', 404],
    ['*', 400],
  ])('GET %s is answered %i', async (target, status) => {
    const answer = await rawHttp(upgrade(target));
    expect(answer.split('\r\n')[0]).toBe(
      `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Bad Request'}`,
    );
    await stillServing();
  });

  it('the same targets as plain requests', async () => {
    const answer = await rawHttp('GET // HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
    expect(answer).toContain('{"message":"no Route matched with those values"}');
  });
});

describe('5 and 6. presence: a deep re-track, then close', () => {
  const topic = 'realtime:presence-poison';
  const join = (ref: string, key: string) => [
    ref,
    ref,
    topic,
    'phx_join',
    { config: { presence: { enabled: true, key }, broadcast: { self: false } } },
  ];

  it('the deep meta is refused with its socket; the others keep presence and broadcasts', async () => {
    const b = await rawOpen(socketUrl('2.0.0'));
    b.send(join('1', 'b'));
    await b.next(v2(topic, 'phx_reply', '1'));

    const a = await rawOpen(socketUrl('2.0.0'));
    a.send(join('1', 'a'));
    await a.next(v2(topic, 'phx_reply', '1'));
    a.send(['1', '2', topic, 'presence', { type: 'presence', event: 'track', payload: { ok: 1 } }]);
    await a.next(v2(topic, 'phx_reply', '2'));
    a.send(`["1","3","${topic}","presence",{"type":"presence","event":"track","payload":${nested(6000)}}]`);
    await expectClosed(a, 1011);
    // A's close untracks its earlier meta, and B hears of it.
    await b.next(
      (f: unknown) =>
        Array.isArray(f) &&
        f[3] === 'presence_diff' &&
        Object.hasOwn((f[4] as { leaves: object }).leaves, 'a'),
    );

    // A later presence join gets its state and everything after it.
    const c = await rawOpen(socketUrl('2.0.0'));
    c.send(join('1', 'c'));
    await c.next(v2(topic, 'phx_reply', '1'));
    const state = (await c.next(v2(topic, 'presence_state'))) as unknown[];
    expect(Object.keys(state[4] as object)).not.toContain('a');
    b.send(['1', '4', topic, 'broadcast', { type: 'broadcast', event: 'ping', payload: { n: 1 } }]);
    expect(await c.next(v2(topic, 'broadcast'))).toMatchObject([
      null,
      null,
      topic,
      'broadcast',
      { event: 'ping', payload: { n: 1 } },
    ]);
    b.close();
    c.close();
    await stillServing();
  });

  it('a broadcast nested as deep closes its sender only', async () => {
    const listener = await rawOpen(socketUrl('1.0.0'));
    listener.send({ topic, event: 'phx_join', payload: { config: {} }, ref: '1', join_ref: '1' });
    await listener.next(v1(topic, 'phx_reply', '1'));
    const sender = await rawOpen(socketUrl('2.0.0'));
    sender.send(['1', '1', topic, 'phx_join', { config: {} }]);
    await sender.next(v2(topic, 'phx_reply', '1'));
    sender.send(
      `["1","2","${topic}","broadcast",{"type":"broadcast","event":"x","payload":${nested(6000)}}]`,
    );
    await expectClosed(sender, 1011);
    const other = await rawOpen(socketUrl('2.0.0'));
    other.send(['1', '1', topic, 'phx_join', { config: {} }]);
    await other.next(v2(topic, 'phx_reply', '1'));
    other.send(['1', '2', topic, 'broadcast', { type: 'broadcast', event: 'y', payload: { fine: true } }]);
    expect(await listener.next(v1(topic, 'broadcast'))).toMatchObject({ payload: { event: 'y' } });
    listener.close();
    other.close();
  });
});

/** An anon socket joining `topic` with one postgres_changes binding on todos; its `system` payload. */
async function anonTodosJoin(topic: string, filter: string): Promise<{ ws: RawSocket; system: unknown }> {
  const ws = await rawOpen(socketUrl('2.0.0'));
  const binding = { event: '*', schema: 'public', table: 'todos', filter };
  ws.send(['1', '1', topic, 'phx_join', { config: { postgres_changes: [binding] } }]);
  await ws.next(v2(topic, 'phx_reply', '1'));
  const system = (await ws.next(v2(topic, 'system'))) as unknown[];
  return { ws, system: system[4] };
}

describe('7. one subscription whose filter cannot be evaluated', () => {
  it('a like pattern ending in the escape character is refused when it subscribes', async () => {
    const { ws, system } = await anonTodosJoin('realtime:like-escape', 'task=like.\\');
    expect(system).toMatchObject({
      extension: 'postgres_changes',
      status: 'error',
      message: expect.stringContaining(
        'operator like is not supported on column task of type text: LIKE pattern must not end with escape character',
      ),
    });
    await stillServing();
    ws.close();
  });

  it('a filter the subscribe check accepts but Postgres cannot evaluate fails only its own subscription', async () => {
    // `in` is not probed at subscribe time (as hosted), and json has no equality operator: the
    // evaluation fails for every change, which used to drop the change for every subscriber.
    await stack.local.ctx.db.admin.query('alter table public.todos add column if not exists meta json');
    const { ws, system } = await anonTodosJoin('realtime:json-in', 'meta=in.(1)');
    expect(system).toMatchObject({ status: 'ok' });
    for (let i = 0; i < 3; i++) await stillServing();
    ws.close();
  });
});

describe('8. an error message over a deeply nested binding', () => {
  it('a 156-byte join with 41 nested lists is answered at once', async () => {
    const ws = await rawOpen(socketUrl('2.0.0'));
    const frame = `["1","1","realtime:x","phx_join",{"config":{"postgres_changes":[{"x":${deep(41)}}]}}]`;
    expect(frame.length).toBe(156);
    ws.send(frame);
    await ws.next(v2('realtime:x', 'phx_reply', '1'));
    const system = (await ws.next(v2('realtime:x', 'system'))) as unknown[];
    const message = (system[4] as { message: string }).message;
    expect(message).toMatch(/^No subscription params provided\. .*: %\{\n {2}"x" => \[/s);
    expect(message.length).toBeLessThan(4000);
    ws.close();
    await stillServing();
  });
});

describe('a correctly signed token whose exp is a string', () => {
  it('is refused as missing role and exp, on the upgrade and on the join', async () => {
    const token = await stack.local.ctx.jwt.sign({ role: 'authenticated', exp: 'tomorrow' });
    const refused = await rawConnect(
      `${apiUrl(stack).replace('http', 'ws')}/realtime/v1/websocket?apikey=${token}&vsn=2.0.0`,
    );
    expect(refused).toMatchObject({
      refused: {
        status: 401,
        body: JSON.stringify({ error: 'Fields `role` and `exp` are required in JWT' }),
      },
    });
    const ws = await rawOpen(socketUrl('2.0.0'));
    ws.send(['1', '1', 'realtime:exp', 'phx_join', { config: {}, access_token: token }]);
    expect(await ws.next(v2('realtime:exp', 'phx_reply', '1'))).toMatchObject([
      '1',
      '1',
      'realtime:exp',
      'phx_reply',
      {
        status: 'error',
        response: { reason: 'InvalidJWTToken: Fields `role` and `exp` are required in JWT' },
      },
    ]);
    ws.close();
  });
});

it('the control client got every event it was owed', async () => {
  await stillServing();
  expect(control.seen.size).toBeGreaterThan(10);
});
