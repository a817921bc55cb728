import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { JwtKeys } from '../../stack/jwt.ts';
import { DEMO } from '../../stack/keys.ts';
import { apiUrl, startTestStack } from '../support/stack.ts';
import { first, sbClient, statuses, subscribe } from './realtime-support.ts';

/**
 * The channel's identity (PROTOCOL.md §2.5, §2.10–2.12) with unmodified supabase-js against the
 * whole stack: the join token and its exact refusals, access_token refresh, and expiry.
 */
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

const nowS = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const sign = (claims: Record<string, unknown>) => stack.local.ctx.jwt.sign(claims);
const userClaims = (extra: Record<string, unknown> = {}) => ({
  sub: crypto.randomUUID(),
  role: 'authenticated',
  aud: 'authenticated',
  exp: nowS() + 3600,
  ...extra,
});

type SystemMessage = { extension?: string; status?: string; message?: string; channel?: string };

describe.each(['2.0.0', '1.0.0'] as const)('vsn %s', (vsn) => {
  /**
   * A supabase-js client whose realtime authenticates with whatever `token.value` holds. supabase-js
   * resolves the accessToken callback asynchronously; awaiting setAuth() first puts the token in the
   * first phx_join, as an app that awaits its session does.
   */
  async function withToken(initial: string) {
    const token = { value: initial };
    const sb = sbClient(apiUrl(stack), DEMO.anonKey, vsn, () => token.value);
    clients.push(sb);
    await sb.realtime.setAuth();
    return { sb, token };
  }

  function channelWithSystem(sb: SupabaseClient, name: string, isPrivate = false) {
    const system: SystemMessage[] = [];
    const listeners: ((m: SystemMessage) => void)[] = [];
    const channel: RealtimeChannel = sb
      .channel(`${name}-${vsn}`, { config: { private: isPrivate } })
      .on('postgres_changes', { event: '*', schema: 'public', table: 'todos' }, () => {})
      .on('system', {}, (m: SystemMessage) => {
        system.push(m);
        for (const l of listeners) l(m);
      });
    const nextSystem = (match: (m: SystemMessage) => boolean) =>
      system.find(match) ??
      first<SystemMessage>((cb) => {
        listeners.push(cb);
      }, match);
    /** Resolves once `n` system messages matching `match` have arrived. */
    const nSystems = (match: (m: SystemMessage) => boolean, n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (system.filter(match).length >= n) resolve();
        };
        listeners.push(check);
        check();
      });
    return { channel, system, nextSystem, nSystems };
  }

  const refusals: [string, () => Promise<string>, RegExp | string][] = [
    [
      'a token signed with another secret',
      () => new JwtKeys('not-the-project-secret-not-the-project-secret').sign(userClaims()),
      'JwtSignatureError: Failed to validate JWT signature',
    ],
    [
      'an expired token',
      () => sign(userClaims({ exp: nowS() - 30 })),
      /^InvalidJWTToken: Token has expired (3\d|[4-9]\d) seconds ago$/,
    ],
    [
      'an alg:none token',
      async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(userClaims({ role: 'service_role' }))}.`,
      'JwtSignerError: Failed to generate JWT signer, check your JWT secret or JWKS configuration',
    ],
    [
      'a token that is not a JWT',
      async () => 'definitely.not-a.jwt',
      'MalformedJWT: The token provided is not a valid JWT',
    ],
    [
      'a token without role',
      () => sign({ sub: crypto.randomUUID(), exp: nowS() + 60 }),
      'InvalidJWTToken: Fields `role` and `exp` are required in JWT',
    ],
  ];

  it.each(refusals)('refuses a join with %s, naming the reason', async (_name, token, reason) => {
    const { sb } = await withToken(await token());
    const { channel } = channelWithSystem(sb, 'refused');
    const result = await subscribe(channel);
    expect(result.status).toBe('CHANNEL_ERROR');
    if (typeof reason === 'string') expect(result.err?.message).toBe(reason);
    else expect(result.err?.message).toMatch(reason);
  });

  it('falls back to the socket apikey when the join carries an sb_ key', async () => {
    const { sb } = await withToken(DEMO.publishableKey);
    const { channel, nextSystem } = channelWithSystem(sb, 'opaque');
    expect((await subscribe(channel)).status).toBe('SUBSCRIBED');
    expect(await nextSystem((m) => m.extension === 'postgres_changes')).toMatchObject({ status: 'ok' });
  });

  it('refuses a private channel to a role that does not bypass RLS (no realtime.messages policies)', async () => {
    const { sb } = await withToken(await sign(userClaims()));
    const { channel } = channelWithSystem(sb, 'secret-room', true);
    const result = await subscribe(channel);
    expect(result.status).toBe('CHANNEL_ERROR');
    expect(result.err?.message).toBe(
      `Unauthorized: You do not have permissions to read from this Channel topic: secret-room-${vsn}`,
    );
    const service = await withToken(DEMO.serviceRoleKey);
    const allowed = channelWithSystem(service.sb, 'secret-room', true);
    expect((await subscribe(allowed.channel)).status).toBe('SUBSCRIBED');
  });

  it('access_token refresh keeps the channel and re-subscribes postgres_changes', async () => {
    const { sb, token } = await withToken(await sign(userClaims()));
    const { channel, nextSystem, nSystems } = channelWithSystem(sb, 'refresh');
    const states = statuses(channel);
    await states.until('SUBSCRIBED');
    await nextSystem((m) => m.message === 'Subscribed to PostgreSQL');
    token.value = await sign(userClaims({ exp: nowS() + 7200 }));
    await sb.realtime.setAuth();
    await nSystems((m) => m.message === 'Subscribed to PostgreSQL', 2);
    expect(states.seen.map((s) => s.status)).toEqual(['SUBSCRIBED']);
    expect(channel.state).toBe('joined');
  });

  it('an invalid access_token shuts the channel down with a system error, then CLOSED', async () => {
    const { sb, token } = await withToken(await sign(userClaims()));
    const { channel, nextSystem } = channelWithSystem(sb, 'bad-refresh');
    const states = statuses(channel);
    await states.until('SUBSCRIBED');
    token.value = await new JwtKeys('not-the-project-secret-not-the-project-secret').sign(userClaims());
    await sb.realtime.setAuth();
    expect(await nextSystem((m) => m.extension === 'system')).toEqual({
      extension: 'system',
      status: 'error',
      message: ':signature_error',
      channel: `bad-refresh-${vsn}`,
    });
    await states.until('CLOSED');
  });

  it('shuts the channel down when its token expires', async () => {
    const { sb } = await withToken(await sign(userClaims({ exp: nowS() + 2 })));
    const { channel, nextSystem } = channelWithSystem(sb, 'expiring');
    const states = statuses(channel);
    await states.until('SUBSCRIBED');
    const shutdown = await nextSystem((m) => m.extension === 'system');
    expect(shutdown).toMatchObject({ extension: 'system', status: 'error', channel: `expiring-${vsn}` });
    expect(shutdown.message).toMatch(/^Token has expired [01] seconds ago$/);
    await states.until('CLOSED');
  }, 15_000);
});
