import { describe, expect, it } from 'vitest';
import { postgresChangesKind } from '../../fixtures/ladder/kinds/postgres-changes.ts';
import { unsettledSockets } from '../../fixtures/ladder/readiness.ts';
import {
  frame,
  joinFrame,
  joinOk,
  socket,
  systemFrame,
  TOPIC,
  userToken,
} from './support/evidence-builder.ts';

const PG = postgresChangesKind({ schema: 'public', name: 'tickets' });

/**
 * Before exactly-once is judged the ladder waits until no realtime socket of the page is still
 * setting up the topic: a second subscription started by a re-render or a retry must be seen.
 */
describe('unsettledSockets: a second subscription still joining is waited for', () => {
  it('a socket created but not yet answered (Chromium opens one socket per host at a time)', () => {
    expect(unsettledSockets([socket([], { id: 2, handshake: undefined })], TOPIC, PG)).toEqual([2]);
  });

  it('a socket open but silent: supabase-js sends its buffered join the moment it opens', () => {
    expect(unsettledSockets([socket([], { id: 3 })], TOPIC, PG)).toEqual([3]);
  });

  it('a join without a reply, or with an ok reply and no postgres_changes answer yet', async () => {
    const token = await userToken();
    expect(unsettledSockets([socket([joinFrame(2010, token)])], TOPIC, PG)).toEqual([1]);
    expect(unsettledSockets([socket([joinFrame(2010, token), joinOk(2020)])], TOPIC, PG)).toEqual([1]);
  });

  it('settled: subscribed, refused, system error, closed, failed, or busy with other topics only', async () => {
    const token = await userToken();
    const subscribed = socket([
      joinFrame(2010, token),
      joinOk(2020),
      systemFrame(2025, 'ok', 'Subscribed to PostgreSQL'),
    ]);
    const systemError = socket(
      [joinFrame(2010, token), joinOk(2020), systemFrame(2025, 'error', 'Unable to subscribe')],
      { id: 2 },
    );
    const refused = socket(
      [
        joinFrame(2010, token),
        frame('received', 2020, [
          '6',
          '6',
          TOPIC,
          'phx_reply',
          { status: 'error', response: { reason: 'Invalid JWT' } },
        ]),
      ],
      { id: 3 },
    );
    const closed = socket([], { id: 4, closedAtMs: 2100 });
    const failed = socket([], {
      id: 5,
      handshake: undefined,
      errors: [{ atMs: 2005, message: 'net::ERR_FAILED' }],
    });
    const rejected = socket([], { id: 6, handshake: { status: 502, statusText: 'Bad Gateway', atMs: 2005 } });
    const otherTopic = socket(
      [frame('sent', 2010, ['1', '1', 'realtime:room-1', 'phx_join', { config: {} }])],
      { id: 7 },
    );
    expect(
      unsettledSockets([subscribed, systemError, refused, closed, failed, rejected, otherTopic], TOPIC, PG),
    ).toEqual([]);
  });
});
