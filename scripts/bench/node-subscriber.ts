import '../../stack/node-support.ts';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';
import type { Target } from './child-stack.ts';

export interface TicketEvent {
  id: string;
  created_by: string;
  assigned_to: string | null;
}

export interface NodeSubscriber {
  client: SupabaseClient;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * An app's subscriber on Node: unmodified supabase-js (ws transport, vsn 2.0.0) authorised with the
 * user's access token, one channel with an INSERT binding on public.tickets. Resolves once the
 * server's `system` message says postgres_changes is ready (inserting earlier may lose the event).
 */
export async function subscribeNode(
  target: Target,
  accessToken: string,
  topic: string,
  onInsert: (row: TicketEvent, arrivedAt: number) => void,
): Promise<NodeSubscriber> {
  const client = createClient(target.url, target.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as never, vsn: '2.0.0' },
  });
  await client.realtime.setAuth(accessToken);
  const channel = client.channel(topic);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`Channel ${topic} got no postgres_changes system message within ${READY_TIMEOUT_MS} ms.`),
        ),
      READY_TIMEOUT_MS,
    );
    channel
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'tickets' }, (payload) => {
        // Timestamp first: everything after this line is the bench's own bookkeeping.
        const arrivedAt = performance.now();
        onInsert(payload.new as TicketEvent, arrivedAt);
      })
      .on('system', {}, (m: { extension?: string; status?: string; message?: string }) => {
        if (m.extension !== 'postgres_changes') return;
        clearTimeout(timer);
        if (m.status === 'ok') resolve();
        else reject(new Error(`Channel ${topic}: postgres_changes refused: ${m.message}`));
      })
      .subscribe((status, error) => {
        if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
          clearTimeout(timer);
          reject(new Error(`Channel ${topic}: ${status}${error ? ` (${error.message})` : ''}`));
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
