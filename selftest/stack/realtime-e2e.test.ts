import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { client, startTestStack } from '../support/stack.ts';
import { first, subscribe } from './realtime-support.ts';

/**
 * Through the whole stack: supabase-js signs in with the embedded auth, joins via the channel
 * layer, and an insert made with the service role reaches the callback from the real changes engine.
 */
let stack: Stack;
let admin: SupabaseClient;
const password = 'realtime-e2e-password';

beforeAll(async () => {
  stack = await startTestStack();
  admin = client(stack, stack.local.config.serviceRoleKey);
});
afterAll(async () => {
  await stack?.stop();
});

async function signedIn(vsn: '1.0.0' | '2.0.0'): Promise<{ sb: SupabaseClient; userId: string }> {
  const email = `rt-${vsn}-${crypto.randomUUID()}@example.test`;
  const created = await admin.auth.admin.createUser({ email, password, email_confirm: true });
  if (created.error)
    throw new Error(`creating ${email} failed: ${created.error.message}`, { cause: created.error });
  const sb = client(stack, stack.local.config.anonKey, vsn);
  const session = await sb.auth.signInWithPassword({ email, password });
  if (session.error)
    throw new Error(`signing in ${email} failed: ${session.error.message}`, { cause: session.error });
  return { sb, userId: created.data.user.id };
}

describe.each(['2.0.0', '1.0.0'] as const)('vsn %s', (vsn) => {
  it('delivers an insert to the signed-in owner through RLS', async () => {
    const { sb, userId } = await signedIn(vsn);
    const task = `e2e ${crypto.randomUUID()}`;
    let onChange!: (p: { new: Record<string, unknown>; eventType: string }) => void;
    let onSystem!: (m: { extension?: string; status?: string; message?: string }) => void;
    const channel = sb
      .channel(`todos-${vsn}`)
      .on(
        'postgres_changes',
        { event: 'INSERT', schema: 'public', table: 'todos', filter: `user_id=eq.${userId}` },
        (p) => onChange(p as never),
      )
      .on('system', {}, (m) => onSystem(m));
    const ready = first<{ extension?: string; status?: string; message?: string }>((cb) => {
      onSystem = cb;
    });
    const event = first<{ new: Record<string, unknown>; eventType: string }>(
      (cb) => {
        onChange = cb;
      },
      (p) => p.new['task'] === task,
    );
    expect((await subscribe(channel)).status).toBe('SUBSCRIBED');
    expect(await ready).toMatchObject({
      extension: 'postgres_changes',
      status: 'ok',
      message: 'Subscribed to PostgreSQL',
    });

    const insert = await admin.from('todos').insert({ task, user_id: userId });
    expect(insert.error).toBeNull();
    const got = await event;
    expect(got.eventType).toBe('INSERT');
    expect(got.new).toMatchObject({ task, user_id: userId, is_complete: false });
    expect(typeof got.new['id']).toBe('number');
    await sb.removeAllChannels();
  });

  it('an anon channel that signs in is re-subscribed under the user and then receives', async () => {
    const email = `rt-late-${vsn}-${crypto.randomUUID()}@example.test`;
    const created = await admin.auth.admin.createUser({ email, password, email_confirm: true });
    expect(created.error).toBeNull();
    const userId = created.data.user!.id;
    const sb = client(stack, stack.local.config.anonKey, vsn);
    const systems: { status?: string; message?: string }[] = [];
    let onSystem: () => void = () => {};
    let onChange!: (p: { new: Record<string, unknown> }) => void;
    const task = `late ${crypto.randomUUID()}`;
    const channel = sb
      .channel(`late-${vsn}`)
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'todos' }, (p) =>
        onChange(p as never),
      )
      .on('system', {}, (m) => {
        systems.push(m);
        onSystem();
      });
    const okCount = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (systems.filter((m) => m.message === 'Subscribed to PostgreSQL').length >= n) resolve();
        };
        onSystem = check;
        check();
      });
    const event = first<{ new: Record<string, unknown> }>(
      (cb) => {
        onChange = cb;
      },
      (p) => p.new['task'] === task,
    );
    expect((await subscribe(channel)).status).toBe('SUBSCRIBED');
    await okCount(1);
    const signIn = await sb.auth.signInWithPassword({ email, password });
    expect(signIn.error).toBeNull();
    // supabase-js pushes access_token on SIGNED_IN; the server answers with a fresh subscription.
    await okCount(2);
    expect((await admin.from('todos').insert({ task, user_id: userId })).error).toBeNull();
    expect((await event).new).toMatchObject({ task, user_id: userId });
    await sb.removeAllChannels();
  });
});
