import { randomUUID } from 'node:crypto';
import { isAuthApiError } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { apiUrl, client, startTestStack } from '../support/stack.ts';

const HOOK_URI = 'pg-functions://postgres/public/auth_test_hook';
const PASSWORD = 'hook-test-password';

/**
 * A hook whose behaviour each user picks through `user_metadata.hook_mode`, so one stack covers
 * the success path and every error contract. In the default mode it delegates to the app's real
 * hook (supabase/migrations) so its grants are exercised too, then marks the claims as its own.
 */
const HOOK_SQL = `
create table if not exists public.auth_test_hook_calls (
  user_id uuid, method text, db_role text, input jsonb, called_at timestamptz default now()
);
grant insert on public.auth_test_hook_calls to supabase_auth_admin;

create or replace function public.auth_test_hook(event jsonb) returns jsonb
language plpgsql as $$
declare
  mode text := event -> 'claims' -> 'user_metadata' ->> 'hook_mode';
  claims jsonb := event -> 'claims';
begin
  insert into public.auth_test_hook_calls (user_id, method, db_role, input)
  values ((event ->> 'user_id')::uuid, event ->> 'authentication_method', current_user, event);
  if mode = 'forbid' then
    return '{"error":{"http_code":403,"message":"Agents are off duty"}}'::jsonb;
  elsif mode = 'error_without_status' then
    return '{"error":{"message":"hook says no"}}'::jsonb;
  elsif mode = 'no_claims' then
    return '{"something":"else"}'::jsonb;
  elsif mode = 'drop_sub' then
    return jsonb_build_object('claims', claims - 'sub');
  elsif mode = 'bad_exp' then
    return jsonb_build_object('claims', jsonb_set(claims, '{exp}', '"tomorrow"'));
  elsif mode = 'raise' then
    raise exception 'hook exploded';
  end if;
  claims := public.custom_access_token_hook(event) -> 'claims';
  return jsonb_build_object('claims', (claims - 'user_metadata') || '{"hook_ran":true}'::jsonb);
end;
$$;
revoke execute on function public.auth_test_hook(jsonb) from public, anon, authenticated;
grant execute on function public.auth_test_hook(jsonb) to supabase_auth_admin;
`;

let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ local: { accessTokenHook: HOOK_URI } });
  await stack.local.ctx.db.admin.query(HOOK_SQL);
});
afterAll(async () => {
  await stack?.stop();
});

async function createUser(hookMode?: string, appMetadata: Record<string, unknown> = {}) {
  const email = `hook-${randomUUID()}@auth.test`;
  const { data, error } = await client(stack, stack.local.config.serviceRoleKey).auth.admin.createUser({
    email,
    password: PASSWORD,
    email_confirm: true,
    app_metadata: appMetadata,
    user_metadata: hookMode ? { hook_mode: hookMode } : {},
  });
  if (error) throw new Error(`admin.createUser(${email}) failed: ${error.message}`, { cause: error });
  return { email, id: data.user!.id };
}

async function calls(userId: string) {
  const { rows } = await stack.local.ctx.db.admin.query<{ method: string; db_role: string; input: unknown }>(
    'select method, db_role, input from public.auth_test_hook_calls where user_id = $1 order by called_at',
    [userId],
  );
  return rows;
}

/** The password grant on the wire, with the version header auth-js sends. */
async function rawSignIn(email: string) {
  const res = await fetch(`${apiUrl(stack)}/auth/v1/token?grant_type=password`, {
    method: 'POST',
    headers: {
      apikey: stack.local.config.anonKey,
      'content-type': 'application/json',
      'x-supabase-api-version': '2024-01-01',
    },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function sessionCount(userId: string): Promise<number> {
  const { rows } = await stack.local.ctx.db.admin.query<{ n: number }>(
    'select count(*)::int as n from auth.sessions where user_id = $1',
    [userId],
  );
  return rows[0]!.n;
}

describe('custom access token hook', () => {
  it('replaces the claims on sign-in, called as supabase_auth_admin with GoTrue input', async () => {
    const { email, id } = await createUser(undefined, { user_role: 'agent' });
    const { data, error } = await client(stack).auth.signInWithPassword({ email, password: PASSWORD });
    expect(error).toBeNull();
    const claims = decodeJwt(data.session!.access_token);
    expect(claims['user_role']).toBe('agent');
    expect(claims['hook_ran']).toBe(true);
    // The hook dropped user_metadata: what it returns is the whole claim set.
    expect(claims).not.toHaveProperty('user_metadata');
    expect(claims).toMatchObject({ sub: id, role: 'authenticated', aud: 'authenticated', email });

    const [call] = await calls(id);
    expect(call?.method).toBe('password');
    expect(call?.db_role).toBe('supabase_auth_admin');
    expect(call?.input).toMatchObject({
      user_id: id,
      authentication_method: 'password',
      metadata: { name: 'customize-access-token' },
      claims: {
        iss: stack.local.config.issuer,
        sub: id,
        aud: 'authenticated',
        role: 'authenticated',
        aal: 'aal1',
        session_id: claims['session_id'],
        is_anonymous: false,
      },
    });
  });

  it('runs again on refresh (token_refresh), so a role change lands with the next token', async () => {
    const { email, id } = await createUser(undefined, { user_role: 'client' });
    const anon = client(stack);
    const { data } = await anon.auth.signInWithPassword({ email, password: PASSWORD });
    expect(decodeJwt(data.session!.access_token)['user_role']).toBe('client');
    const updated = await client(stack, stack.local.config.serviceRoleKey).auth.admin.updateUserById(id, {
      app_metadata: { user_role: 'admin' },
    });
    expect(updated.error).toBeNull();
    const refreshed = await anon.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    expect(decodeJwt(refreshed.data.session!.access_token)['user_role']).toBe('admin');
    expect((await calls(id)).map((c) => c.method)).toEqual(['password', 'token_refresh']);
  });

  it('maps {error:{http_code,message}} to that status and message, and issues nothing', async () => {
    const { email, id } = await createUser('forbid');
    const { data, error } = await client(stack).auth.signInWithPassword({ email, password: PASSWORD });
    expect(isAuthApiError(error)).toBe(true);
    expect(error).toMatchObject({ status: 403, code: 'unknown', message: 'Agents are off duty' });
    expect(data.session).toBeNull();
    expect(await rawSignIn(email)).toEqual({
      status: 403,
      body: { code: 'unknown', message: 'Agents are off duty' },
    });
    expect(await sessionCount(id)).toBe(0);
  });

  it('defaults a hook error without http_code to 500', async () => {
    const { email } = await createUser('error_without_status');
    expect(await rawSignIn(email)).toEqual({
      status: 500,
      body: { code: 'unexpected_failure', message: 'hook says no' },
    });
  });

  it('refuses an answer without claims, or with claims GoTrue requires missing or mistyped', async () => {
    const missing = await createUser('no_claims');
    expect(await rawSignIn(missing.email)).toEqual({
      status: 500,
      body: { code: 'unexpected_failure', message: 'output claims field is missing' },
    });

    const noSub = await createUser('drop_sub');
    const dropped = await rawSignIn(noSub.email);
    expect(dropped.status).toBe(500);
    expect(dropped.body['message']).toBe(
      'output claims do not conform to the expected schema: \n- (root): sub is required\n',
    );

    const badExp = await createUser('bad_exp');
    const mistyped = await rawSignIn(badExp.email);
    expect(mistyped.status).toBe(500);
    expect(String(mistyped.body['message'])).toMatch(
      /^output claims do not conform to the expected schema: \n- exp: /,
    );
    expect(await sessionCount(noSub.id)).toBe(0);
  });

  it('reports a hook that fails in Postgres as a 500 naming the hook, and rolls the sign-in back', async () => {
    const { email, id } = await createUser('raise');
    expect(await rawSignIn(email)).toEqual({
      status: 500,
      body: { code: 'unexpected_failure', message: `Error running hook URI: ${HOOK_URI}` },
    });
    expect(await sessionCount(id)).toBe(0);
    expect(await calls(id)).toEqual([]);
  });

  it('needs its grant: without execute for supabase_auth_admin, sign-in fails naming the hook', async () => {
    const { email, id } = await createUser(undefined, { user_role: 'agent' });
    const db = stack.local.ctx.db.admin;
    await db.query('revoke execute on function public.auth_test_hook(jsonb) from supabase_auth_admin');
    try {
      expect(await rawSignIn(email)).toEqual({
        status: 500,
        body: { code: 'unexpected_failure', message: `Error running hook URI: ${HOOK_URI}` },
      });
      expect(await sessionCount(id)).toBe(0);
    } finally {
      await db.query('grant execute on function public.auth_test_hook(jsonb) to supabase_auth_admin');
    }
    expect((await rawSignIn(email)).status).toBe(200);
  });

  it('is not callable by the API roles (the migration revoked it from them)', async () => {
    await expect(
      stack.local.ctx.db.asClaims({ role: 'authenticated' }, (c) =>
        c.query(`select public.auth_test_hook('{}')`),
      ),
    ).rejects.toThrow(/permission denied for function auth_test_hook/);
  });
});
