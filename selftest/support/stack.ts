import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';
import { type Stack, type StackOptions, startStack } from '../../stack/index.ts';
import { freePort } from '../../stack/ports.ts';

/**
 * A whole stack on free ports, for one test file. Fixed ports stay for `npm run stack` and the
 * matrix, where compatibility with `supabase start` is the point.
 */
export async function startTestStack(options: StackOptions = {}): Promise<Stack> {
  return startStack({
    ...options,
    dbPort: options.dbPort ?? (await freePort()),
    local: { apiPort: 0, ...options.local },
  });
}

/** The project's URL once listening (port 0 resolved). */
export function apiUrl(stack: Stack): string {
  return stack.local.listenUrl;
}

/** Unmodified supabase-js as an app would create it on Node 20 (ws transport, no session persistence). */
export function client(
  stack: Stack,
  key: string = stack.local.config.anonKey,
  vsn?: '1.0.0' | '2.0.0',
): SupabaseClient {
  return createClient(apiUrl(stack), key, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as never, ...(vsn ? { vsn } : {}) },
  });
}
