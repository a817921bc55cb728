import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeFaults } from '../../stack/faults/hooks.ts';
import type { Stack } from '../../stack/index.ts';
import { DEMO } from '../../stack/keys.ts';
import type { ChangeData } from '../../stack/realtime/changes-api.ts';
import { startTestStack } from '../support/stack.ts';
import { type MountedRealtime, mountRealtime, rawOpen, ScriptedEngine, v2 } from './realtime-support.ts';

/**
 * The channel layer against a ChangesEngine the test scripts: the exact postgres_changes frames,
 * the subscribe-before-reply order, engine errors as `system` messages, and the realtime faults.
 */
let stack: Stack;
let rt: MountedRealtime;
const engine = new ScriptedEngine();
const slowOrigin = 'http://slow.localhost:3001';
const deafOrigin = 'http://deaf.localhost:3002';
const delays = new Map<string, number>();
const faults: RealtimeFaults = {
  ignoreJoins: (origin) => origin === deafOrigin,
  deliveryDelayMs: (origin) => (origin ? (delays.get(origin) ?? 0) : 0),
};

beforeAll(async () => {
  stack = await startTestStack();
  rt = await mountRealtime(stack, { engine, faults });
});
afterAll(async () => {
  await rt?.stop();
  await stack?.stop();
});

const change: ChangeData = {
  schema: 'public',
  table: 'todos',
  type: 'INSERT',
  commit_timestamp: '2026-01-01T12:00:00.123Z',
  columns: [{ name: 'id', type: 'int8' }],
  record: { id: 1 },
  errors: null,
};
const bindings = [
  { event: 'INSERT', schema: 'public', table: 'todos' },
  { event: '*', schema: 'public', table: 'todos', filter: 'id=eq.1' },
];

async function joined(topic: string, origin?: string) {
  const ws = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`, origin ? { origin } : undefined);
  ws.send(['1', '1', topic, 'phx_join', { config: { postgres_changes: bindings } }]);
  return ws;
}

describe('postgres_changes through the channel layer', () => {
  it('subscribes before replying, replies with ids in order, then sends the system ok', async () => {
    const ws = await joined('realtime:pc');
    const replyFrame = await ws.next<unknown[]>(v2('realtime:pc', 'phx_reply', '1'));
    // The subscription already existed when the reply left: no lost-first-event window.
    const sub = engine.history.find((s) => s.key.includes('realtime:pc'))!;
    expect(engine.live.has(sub.key)).toBe(true);
    const ids = sub.bindings.map((b) => b.id);
    expect(replyFrame).toEqual([
      '1',
      '1',
      'realtime:pc',
      'phx_reply',
      { status: 'ok', response: { postgres_changes: bindings.map((b, i) => ({ ...b, id: ids[i] })) } },
    ]);
    const system = await ws.next<unknown[]>(v2('realtime:pc', 'system'));
    expect(ws.frames.indexOf(system)).toBe(ws.frames.indexOf(replyFrame) + 1);
    expect(system).toEqual([
      '1',
      null,
      'realtime:pc',
      'system',
      { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: 'pc' },
    ]);
    sub.deliver(ids, change);
    expect(await ws.next(v2('realtime:pc', 'postgres_changes'))).toEqual([
      null,
      null,
      'realtime:pc',
      'postgres_changes',
      { ids, data: change },
    ]);
    ws.close();
    await ws.closed;
    await expect.poll(() => engine.live.has(sub.key)).toBe(false);
  });

  it('passes the engine error on as a postgres_changes system error and stays joined', async () => {
    const message =
      'Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: INSERT, schema: public, table: todos, filters: []]';
    engine.nextResult = { ok: false, message };
    try {
      const ws = await joined('realtime:unpublished');
      expect(await ws.next(v2('realtime:unpublished', 'phx_reply', '1'))).toMatchObject({
        4: { status: 'ok' },
      });
      expect(await ws.next(v2('realtime:unpublished', 'system'))).toEqual([
        '1',
        null,
        'realtime:unpublished',
        'system',
        { extension: 'postgres_changes', status: 'error', message, channel: 'unpublished' },
      ]);
      ws.close();
    } finally {
      engine.nextResult = { ok: true };
    }
  });

  it('a change the engine delivers while the join is being answered arrives after the reply and system ok', async () => {
    const eager = new ScriptedEngine();
    const subscribeLive = eager.subscribe.bind(eager);
    eager.subscribe = async (sub) => {
      const result = await subscribeLive(sub);
      // Live before subscribe resolves, as the engine contract allows: a change lands at once.
      sub.deliver(
        sub.bindings.map((b) => b.id),
        change,
      );
      return result;
    };
    const other = await mountRealtime(stack, { engine: eager });
    try {
      const ws = await rawOpen(`${other.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`);
      ws.send(['1', '1', 'realtime:eager', 'phx_join', { config: { postgres_changes: bindings } }]);
      await ws.next(v2('realtime:eager', 'postgres_changes'));
      expect(ws.frames.map((f) => (f as unknown[])[3])).toEqual(['phx_reply', 'system', 'postgres_changes']);
      ws.close();
    } finally {
      await other.stop();
    }
  });

  it('tells a client that opted into broadcast.replication_ready that replication is up', async () => {
    const ws = await rawOpen(`${rt.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`);
    ws.send(['1', '1', 'realtime:ready', 'phx_join', { config: { broadcast: { replication_ready: true } } }]);
    expect(await ws.next(v2('realtime:ready', 'system'))).toEqual([
      '1',
      null,
      'realtime:ready',
      'system',
      { extension: 'system', status: 'ok', message: 'Replication connection established', channel: 'ready' },
    ]);
    ws.close();
  });

  it('an engine that throws on subscribe becomes a system error; the join itself still succeeds', async () => {
    const failing = new ScriptedEngine();
    failing.subscribe = async () => {
      throw new Error('replication connection lost');
    };
    const other = await mountRealtime(stack, { engine: failing });
    try {
      const ws = await rawOpen(`${other.wsUrl}?apikey=${DEMO.anonKey}&vsn=2.0.0`);
      ws.send(['1', '1', 'realtime:broken', 'phx_join', { config: { postgres_changes: bindings } }]);
      expect(await ws.next(v2('realtime:broken', 'phx_reply', '1'))).toMatchObject({ 4: { status: 'ok' } });
      expect(await ws.next(v2('realtime:broken', 'system'))).toMatchObject({
        4: {
          extension: 'postgres_changes',
          status: 'error',
          message: 'Unable to subscribe to changes: replication connection lost',
        },
      });
      ws.close();
    } finally {
      await other.stop();
    }
  });

  it('join-unanswered: a faulted origin never gets a join reply, and nothing is subscribed', async () => {
    const before = engine.history.length;
    const ws = await joined('realtime:deaf', deafOrigin);
    ws.send([null, '2', 'phoenix', 'heartbeat', {}]);
    ws.send(['1', '3', 'realtime:deaf', 'phx_leave', {}]);
    // Frames are handled in order: the leave's reply proves the join was read and ignored.
    await ws.next(v2('realtime:deaf', 'phx_reply', '3'));
    expect(ws.frames.some(v2('realtime:deaf', 'phx_reply', '1'))).toBe(false);
    expect(engine.history.length).toBe(before);
    ws.close();
    const healthy = await joined('realtime:deaf');
    await healthy.next(v2('realtime:deaf', 'phx_reply', '1'));
    healthy.close();
  });

  it('slow-delivery: a faulted origin gets each change held for the configured delay; others at once', async () => {
    delays.set(slowOrigin, 300);
    const slow = await joined('realtime:slow', slowOrigin);
    const fast = await joined('realtime:slow');
    await slow.next(v2('realtime:slow', 'system'));
    await fast.next(v2('realtime:slow', 'system'));
    const started = performance.now();
    engine.emit(change);
    await fast.next(v2('realtime:slow', 'postgres_changes'));
    const fastMs = performance.now() - started;
    await slow.next(v2('realtime:slow', 'postgres_changes'));
    const slowMs = performance.now() - started;
    // The healthy origin's copy goes out at emit, the faulted one's after the hold: order, not a
    // wall-clock bound on the fast one (a loaded machine may take longer than the hold to schedule it).
    expect(fastMs).toBeLessThan(slowMs);
    expect(slowMs).toBeGreaterThanOrEqual(295);
    // Read per delivery: switching the fault off takes effect on the next change.
    delays.delete(slowOrigin);
    engine.emit({ ...change, record: { id: 2 } });
    const recordId = (f: unknown) => ((f as unknown[])[4] as { data: ChangeData }).data.record?.['id'];
    await slow.next((f: unknown) => v2('realtime:slow', 'postgres_changes')(f) && recordId(f) === 2);
    slow.close();
    fast.close();
  });

  it('access_token refresh re-subscribes under a new key and retires the old one', async () => {
    const ws = await joined('realtime:refresh');
    await ws.next(v2('realtime:refresh', 'system'));
    const first = engine.history.filter((s) => s.key.includes('realtime:refresh')).at(-1)!;
    const token = await stack.local.ctx.jwt.sign({
      sub: crypto.randomUUID(),
      role: 'authenticated',
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    ws.send(['1', '2', 'realtime:refresh', 'access_token', { access_token: token }]);
    await ws.next(
      (f: unknown) =>
        v2('realtime:refresh', 'system')(f) && f !== ws.frames.find(v2('realtime:refresh', 'system')),
    );
    const second = engine.history.filter((s) => s.key.includes('realtime:refresh')).at(-1)!;
    expect(second.key).not.toBe(first.key);
    expect(second.claims.role).toBe('authenticated');
    expect(engine.live.has(first.key)).toBe(false);
    // A late delivery through the retired subscription is not forwarded.
    first.deliver([1], change);
    second.deliver(
      second.bindings.map((b) => b.id),
      { ...change, record: { id: 42 } },
    );
    const delivered = await ws.next<unknown[]>(v2('realtime:refresh', 'postgres_changes'));
    expect((delivered[4] as { data: ChangeData }).data.record).toEqual({ id: 42 });
    // Ignored: sb_ keys, null and the same token (no third subscription).
    for (const access_token of [DEMO.publishableKey, null, token]) {
      ws.send(['1', '3', 'realtime:refresh', 'access_token', { access_token }]);
    }
    ws.send([null, '4', 'phoenix', 'heartbeat', {}]);
    ws.send(['1', '5', 'realtime:refresh', 'phx_leave', {}]);
    await ws.next(v2('realtime:refresh', 'phx_close'));
    expect(engine.history.filter((s) => s.key.includes('realtime:refresh'))).toHaveLength(2);
    ws.close();
  });
});
