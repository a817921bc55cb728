import '../../stack/node-support.ts';
import { createClient } from '@supabase/supabase-js';
import type pg from 'pg';
import ws from 'ws';
import type { Target } from './child-stack.ts';
import type { NodeSubscriber } from './node-subscriber.ts';

const READY_TIMEOUT_MS = 60_000;

/**
 * Broadcast from Database the way Supabase recommends it, on the bench's own table: a row trigger
 * (security definer) calls `realtime.broadcast_changes` into the private topic `bench:<user id>`,
 * and a SELECT policy on `realtime.messages` lets each user read their own topic. Returns how to
 * remove it again.
 */
export async function installBroadcastTrigger(db: pg.Pool, table: string): Promise<() => Promise<void>> {
  await db.query(`
    create or replace function public.rtm_bench_broadcast() returns trigger
    language plpgsql security definer set search_path = '' as $$
    begin
      perform realtime.broadcast_changes('bench:' || new.created_by::text, tg_op, tg_op,
        tg_table_name, tg_table_schema, new, old);
      return null;
    end $$;
    drop trigger if exists rtm_bench_broadcast on ${table};
    create trigger rtm_bench_broadcast after insert on ${table}
      for each row execute function public.rtm_bench_broadcast();
    drop policy if exists "rtm bench: own topic" on realtime.messages;
    create policy "rtm bench: own topic" on realtime.messages for select to authenticated
      using (realtime.topic() = 'bench:' || auth.uid()::text);
  `);
  return async () => {
    await db.query(`
      drop trigger if exists rtm_bench_broadcast on ${table};
      drop function if exists public.rtm_bench_broadcast();
      drop policy if exists "rtm bench: own topic" on realtime.messages;
    `);
  };
}

/**
 * The same app subscriber as node-subscriber.ts, receiving by Broadcast instead: unmodified
 * supabase-js (ws, vsn 2.0.0) joins the private channel `bench:<user id>` with the user's token.
 * Resolves once joined: the server streams realtime.messages from its own start, so nothing
 * committed after the join reply is missed (there is no `system` message for broadcast).
 */
export async function subscribeNodeBroadcast(
  target: Target,
  accessToken: string,
  userId: string,
  onInsert: (record: { id: string }, arrivedAt: number) => void,
): Promise<NodeSubscriber> {
  const client = createClient(target.url, target.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as never, vsn: '2.0.0' },
  });
  await client.realtime.setAuth(accessToken);
  const topic = `bench:${userId}`;
  const channel = client.channel(topic, { config: { private: true } });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Private channel ${topic} was not joined within ${READY_TIMEOUT_MS} ms.`)),
      READY_TIMEOUT_MS,
    );
    channel
      .on('broadcast', { event: 'INSERT' }, (message) => {
        // Timestamp first: everything after this line is the bench's own bookkeeping.
        const arrivedAt = performance.now();
        onInsert((message['payload'] as { record: { id: string } }).record, arrivedAt);
      })
      .subscribe((status, error) => {
        if (status === 'SUBSCRIBED') {
          clearTimeout(timer);
          resolve();
        } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
          clearTimeout(timer);
          reject(new Error(`Private channel ${topic}: ${status}${error ? ` (${error.message})` : ''}`));
        }
      });
  });
  return {
    client,
    async close() {
      await client.removeAllChannels();
      client.realtime.disconnect();
    },
  };
}
