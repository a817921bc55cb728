import { randomUUID } from 'node:crypto';
import {
  type AuthError,
  isAuthApiError,
  isAuthSessionMissingError,
  isAuthWeakPasswordError,
} from '@supabase/supabase-js';
import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { apiUrl, client, startTestStack } from '../support/stack.ts';

let stack: Stack;
const PASSWORD = 'correct-horse-battery';

beforeAll(async () => {
  // GoTrue without a hook: the claim set is GoTrue's own (auth-hook.test.ts covers the hook).
  stack = await startTestStack({ local: { accessTokenHook: undefined } });
});
afterAll(async () => {
  await stack?.stop();
});

const admin = () => client(stack, stack.local.config.serviceRoleKey);
const uniqueEmail = (label: string) => `${label}-${randomUUID()}@auth.test`;

/** A confirmed user with a password, created through the admin API as a setup step would. */
async function createUser(label: string, extra: Record<string, unknown> = {}) {
  const email = uniqueEmail(label);
  const { data, error } = await admin().auth.admin.createUser({
    email,
    password: PASSWORD,
    email_confirm: true,
    ...extra,
  });
  if (error) throw new Error(`admin.createUser(${email}) failed: ${error.message}`, { cause: error });
  return { email, user: data.user };
}

async function signIn(email: string, password = PASSWORD, key?: string) {
  const supabase = client(stack, key);
  const { data, error } = await supabase.auth.signInWithPassword({ email, password });
  if (error) throw new Error(`signInWithPassword(${email}) failed: ${error.message}`, { cause: error });
  return { supabase, session: data.session };
}

/** GET /user on the wire, for answers auth-js turns into its own error classes. */
async function rawUser(token: string) {
  const res = await fetch(`${apiUrl(stack)}/auth/v1/user`, {
    headers: {
      apikey: stack.local.config.anonKey,
      authorization: `Bearer ${token}`,
      'x-supabase-api-version': '2024-01-01',
    },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** auth-js reports a 403 session_not_found as AuthSessionMissingError; the wire says why. */
async function expectSessionGone(token: string) {
  const { error } = await client(stack).auth.getUser(token);
  expect(isAuthSessionMissingError(error)).toBe(true);
  expect(await rawUser(token)).toEqual({
    status: 403,
    body: { code: 'session_not_found', message: 'Session from session_id claim in JWT does not exist' },
  });
}

function expectApiError(error: AuthError | null, status: number, code: string) {
  expect(error, `expected AuthApiError ${status} ${code}`).not.toBeNull();
  expect(isAuthApiError(error)).toBe(true);
  expect({ status: error?.status, code: error?.code }).toEqual({ status, code });
}

describe('admin users API', () => {
  it('creates a user with GoTrue defaults merged under the given metadata', async () => {
    const email = uniqueEmail('create');
    const { data, error } = await admin().auth.admin.createUser({
      email,
      password: PASSWORD,
      email_confirm: true,
      app_metadata: { team: 'a' },
      user_metadata: { name: 'U' },
    });
    expect(error).toBeNull();
    const user = data.user!;
    expect(user.email).toBe(email);
    expect(user.aud).toBe('authenticated');
    expect(user.role).toBe('authenticated');
    expect(user.app_metadata).toEqual({ provider: 'email', providers: ['email'], team: 'a' });
    expect(user.user_metadata).toEqual({ name: 'U', email_verified: true });
    expect(user.email_confirmed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(user.confirmed_at).toBe(user.email_confirmed_at);
    expect(user.phone).toBe('');
    expect(user.is_anonymous).toBe(false);
    expect(user.identities).toHaveLength(1);
    expect(user.identities?.[0]).toMatchObject({
      id: user.id,
      user_id: user.id,
      provider: 'email',
      email,
      identity_data: { sub: user.id, email, email_verified: false, phone_verified: false },
    });
    expect(user).not.toHaveProperty('encrypted_password');
  });

  it('honours a given id and role, and leaves email_confirmed_at unset without email_confirm', async () => {
    const id = randomUUID();
    const { data, error } = await admin().auth.admin.createUser({
      id,
      email: uniqueEmail('custom'),
      role: 'supabase_admin_custom',
    } as never);
    expect(error).toBeNull();
    expect(data.user?.id).toBe(id);
    expect(data.user?.role).toBe('supabase_admin_custom');
    expect(data.user?.email_confirmed_at).toBeUndefined();
  });

  it('refuses a second user with the same email: 422 email_exists', async () => {
    const { email } = await createUser('dupe');
    const { data, error } = await admin().auth.admin.createUser({
      email: email.toUpperCase(),
      password: PASSWORD,
    });
    expectApiError(error, 422, 'email_exists');
    expect(error?.message).toBe('A user with this email address has already been registered');
    expect(data.user).toBeNull();
  });

  it('refuses a user without email or phone: 400 validation_failed', async () => {
    const { error } = await admin().auth.admin.createUser({ password: PASSWORD });
    expectApiError(error, 400, 'validation_failed');
    expect(error?.message).toBe('Cannot create a user without either an email or phone');
  });

  it('refuses the anon and publishable keys: 403 not_admin "User not allowed"', async () => {
    for (const key of [stack.local.config.anonKey, stack.local.config.publishableKey]) {
      const { error } = await client(stack, key).auth.admin.createUser({ email: uniqueEmail('anon') });
      expectApiError(error, 403, 'not_admin');
      expect(error?.message).toBe('User not allowed');
      const list = await client(stack, key).auth.admin.listUsers();
      expectApiError(list.error, 403, 'not_admin');
    }
  });

  it('refuses a signed-in user token on the admin API', async () => {
    const { email } = await createUser('not-admin');
    const { session } = await signIn(email);
    const res = await fetch(`${apiUrl(stack)}/auth/v1/admin/users`, {
      headers: {
        apikey: stack.local.config.anonKey,
        authorization: `Bearer ${session.access_token}`,
        'x-supabase-api-version': '2024-01-01',
      },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ code: 'not_admin', message: 'User not allowed' });
  });

  it('lists users newest first with the pagination supabase-js parses', async () => {
    await createUser('list-a');
    const newest = await createUser('list-b');
    const listed = await admin().auth.admin.listUsers({ page: 1, perPage: 1 });
    if (listed.error) throw listed.error;
    const data = listed.data as typeof listed.data & { aud: string; total: number; nextPage: number | null };
    expect(data.users).toHaveLength(1);
    expect(data.users[0]?.id).toBe(newest.user!.id);
    expect(data.aud).toBe('authenticated');
    const { count } = (
      await stack.local.ctx.db.admin.query<{ count: string }>(
        "select count(*)::text as count from auth.users where instance_id = '00000000-0000-0000-0000-000000000000' and aud = 'authenticated'",
      )
    ).rows[0]!;
    expect(data.total).toBe(Number(count));
    expect(data.nextPage).toBe(2);

    const res = await fetch(`${apiUrl(stack)}/auth/v1/admin/users?per_page=2&page=1`, {
      headers: {
        apikey: stack.local.config.serviceRoleKey,
        authorization: `Bearer ${stack.local.config.serviceRoleKey}`,
      },
    });
    expect(res.status).toBe(200);
    const pages = Math.ceil(Number(count) / 2);
    expect(res.headers.get('x-total-count')).toBe(count);
    expect(res.headers.get('link')).toBe(
      `</admin/users?page=2&per_page=2>; rel="next", </admin/users?page=${pages}&per_page=2>; rel="last"`,
    );
  });

  it('gets, updates (merging metadata, banning) and deletes a user by id', async () => {
    const { user } = await createUser('crud', { user_metadata: { keep: 1, drop: 2 } });
    const id = user!.id;
    const got = await admin().auth.admin.getUserById(id);
    expect(got.error).toBeNull();
    expect(got.data.user?.id).toBe(id);

    const updated = await admin().auth.admin.updateUserById(id, {
      app_metadata: { user_role: 'agent' },
      user_metadata: { drop: null, added: true },
      ban_duration: '24h',
    });
    expect(updated.error).toBeNull();
    expect(updated.data.user?.app_metadata).toEqual({
      provider: 'email',
      providers: ['email'],
      user_role: 'agent',
    });
    expect(updated.data.user?.user_metadata).toEqual({ keep: 1, added: true, email_verified: true });
    const bannedUntil = Date.parse(updated.data.user!.banned_until!);
    expect(bannedUntil - Date.now()).toBeGreaterThan(23 * 3600_000);

    const banned = await client(stack).auth.signInWithPassword({ email: user!.email!, password: PASSWORD });
    expectApiError(banned.error, 400, 'user_banned');

    const unbanned = await admin().auth.admin.updateUserById(id, { ban_duration: 'none' });
    expect(unbanned.data.user?.banned_until).toBeUndefined();
    await signIn(user!.email!);

    const deleted = await admin().auth.admin.deleteUser(id);
    expect(deleted.error).toBeNull();
    const gone = await admin().auth.admin.getUserById(id);
    expectApiError(gone.error, 404, 'user_not_found');
  });

  it('answers a malformed user id with 404 validation_failed', async () => {
    const res = await fetch(`${apiUrl(stack)}/auth/v1/admin/users/not-a-uuid`, {
      headers: {
        apikey: stack.local.config.serviceRoleKey,
        authorization: `Bearer ${stack.local.config.serviceRoleKey}`,
        'x-supabase-api-version': '2024-01-01',
      },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 'validation_failed', message: 'user_id must be an UUID' });
  });
});

describe('password grant', () => {
  it('signs in and answers the §3.2 session shape', async () => {
    const { email, user } = await createUser('signin');
    const { session } = await signIn(email);
    expect(session.token_type).toBe('bearer');
    expect(session.expires_in).toBe(3600);
    expect(session.expires_at).toBe(decodeJwt(session.access_token).exp);
    expect(session.refresh_token).toMatch(/^[a-z0-9]{12}$/);
    expect(session.user.id).toBe(user!.id);
    expect(session.user.last_sign_in_at).toBeDefined();
    expect(session.user.identities?.[0]?.last_sign_in_at).toBeDefined();
  });

  it('refuses a wrong password and an unknown email alike: 400 invalid_credentials', async () => {
    const { email } = await createUser('wrongpw');
    for (const [who, password] of [
      [email, 'not-the-password'],
      [uniqueEmail('nobody'), PASSWORD],
    ] as const) {
      const { data, error } = await client(stack).auth.signInWithPassword({ email: who, password });
      expectApiError(error, 400, 'invalid_credentials');
      expect(error?.message).toBe('Invalid login credentials');
      expect(data.session).toBeNull();
    }
  });

  it('refuses an unconfirmed email: 400 email_not_confirmed', async () => {
    const email = uniqueEmail('unconfirmed');
    await admin().auth.admin.createUser({ email, password: PASSWORD });
    const { error } = await client(stack).auth.signInWithPassword({ email, password: PASSWORD });
    expectApiError(error, 400, 'email_not_confirmed');
  });

  it('signs in by phone', async () => {
    const phone = `4915${String(Date.now()).slice(-8)}`;
    const created = await admin().auth.admin.createUser({
      phone: `+${phone}`,
      password: PASSWORD,
      phone_confirm: true,
    });
    expect(created.error).toBeNull();
    expect(created.data.user?.phone).toBe(phone);
    const { data, error } = await client(stack).auth.signInWithPassword({
      phone: `+${phone}`,
      password: PASSWORD,
    });
    expect(error).toBeNull();
    expect(decodeJwt(data.session!.access_token)['phone']).toBe(phone);
  });

  it('signs in a user seeded the Supabase way (pgcrypto bcrypt in SQL)', async () => {
    const id = randomUUID();
    const email = uniqueEmail('seeded');
    await stack.local.ctx.db.admin.query(
      `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
         raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
         confirmation_token, recovery_token, email_change_token_new, email_change)
       values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2,
         extensions.crypt($3, extensions.gen_salt('bf')), now(),
         '{"provider":"email","providers":["email"]}', '{}', now(), now(), '', '', '', '')`,
      [id, email, PASSWORD],
    );
    const { session } = await signIn(email);
    expect(session.user.id).toBe(id);
  });

  it('stores only a bcrypt hash of cost 10', async () => {
    const { user } = await createUser('hash');
    const { rows } = await stack.local.ctx.db.admin.query<{ encrypted_password: string }>(
      'select encrypted_password from auth.users where id = $1',
      [user!.id],
    );
    expect(rows[0]?.encrypted_password).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/);
    expect(rows[0]?.encrypted_password).not.toContain(PASSWORD);
  });
});

describe('access token claims', () => {
  it('carries exactly the GoTrue claim set, HS256-signed with the project secret', async () => {
    const { email, user } = await createUser('claims', { user_metadata: { name: 'C' } });
    const { session } = await signIn(email);
    expect(decodeProtectedHeader(session.access_token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(
      session.access_token,
      new TextEncoder().encode(stack.local.config.jwtSecret),
    );
    expect(Object.keys(payload)).toEqual([
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'email',
      'phone',
      'app_metadata',
      'user_metadata',
      'role',
      'aal',
      'amr',
      'session_id',
      'is_anonymous',
    ]);
    expect(payload).toMatchObject({
      iss: stack.local.config.issuer,
      sub: user!.id,
      aud: 'authenticated',
      email,
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { name: 'C', email_verified: true },
      role: 'authenticated',
      aal: 'aal1',
      is_anonymous: false,
    });
    expect(stack.local.config.issuer).toBe(`${apiUrl(stack)}/auth/v1`);
    expect(payload.exp! - payload.iat!).toBe(stack.local.config.jwtExpiry);
    expect(payload['amr']).toEqual([{ method: 'password', timestamp: expect.any(Number) }]);
    const { rows } = await stack.local.ctx.db.admin.query('select id from auth.sessions where id = $1', [
      payload['session_id'],
    ]);
    expect(rows).toHaveLength(1);
  });
});

describe('GET/PUT /user', () => {
  it('returns the bare user for the bearer', async () => {
    const { email, user } = await createUser('getuser');
    const { supabase, session } = await signIn(email);
    const { data, error } = await supabase.auth.getUser();
    expect(error).toBeNull();
    expect(data.user?.id).toBe(user!.id);
    const res = await fetch(`${apiUrl(stack)}/auth/v1/user`, {
      headers: { apikey: stack.local.config.anonKey, authorization: `Bearer ${session.access_token}` },
    });
    expect(Object.keys(await res.json())).toContain('identities');
  });

  it('refuses forged, expired and alg:none tokens with 403 bad_jwt', async () => {
    const { email, user } = await createUser('badjwt');
    const { session } = await signIn(email);
    const claims = decodeJwt(session.access_token);
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode('not-the-project-secret-but-long-enough-to-sign'));
    const expired = await new SignJWT({ ...claims, iat: now - 7200, exp: now - 3600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(stack.local.config.jwtSecret));
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    const expected: [string, string, RegExp][] = [
      ['forged', forged, /signature is invalid/],
      ['expired', expired, /token is expired/],
      ['alg none', none, /signing method none is invalid/],
    ];
    for (const [label, token, reason] of expected) {
      const { data, error } = await client(stack).auth.getUser(token);
      expectApiError(error, 403, 'bad_jwt');
      expect(error?.message, label).toMatch(/^invalid JWT: unable to parse or verify signature, /);
      expect(error?.message, label).toMatch(reason);
      expect(data.user).toBeNull();
    }
    // The real token still works: the refusals above were about the tokens, not the user.
    const ok = await client(stack).auth.getUser(session.access_token);
    expect(ok.data.user?.id).toBe(user!.id);
  });

  it('refuses a request with no Bearer at all: 401 no_authorization', async () => {
    const variants: Record<string, string>[] = [
      { apikey: stack.local.config.anonKey },
      { apikey: stack.local.config.anonKey, authorization: 'Basic dXNlcjpwYXNz' },
    ];
    for (const headers of variants) {
      const res = await fetch(`${apiUrl(stack)}/auth/v1/user`, {
        headers: { ...headers, 'x-supabase-api-version': '2024-01-01' },
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        code: 'no_authorization',
        message: 'This endpoint requires a valid Bearer token',
      });
    }
  });

  it('refuses the anon key as a user token: 403 bad_jwt missing sub', async () => {
    const { error } = await client(stack).auth.getUser(stack.local.config.anonKey);
    expectApiError(error, 403, 'bad_jwt');
    expect(error?.message).toBe('invalid claim: missing sub claim');
  });

  it('updates user_metadata, and a new password replaces the old one', async () => {
    const { email } = await createUser('update', { user_metadata: { a: 1 } });
    const { supabase } = await signIn(email);
    const meta = await supabase.auth.updateUser({ data: { b: 2 } });
    expect(meta.error).toBeNull();
    expect(meta.data.user?.user_metadata).toEqual({ a: 1, b: 2, email_verified: true });

    const same = await supabase.auth.updateUser({ password: PASSWORD });
    expectApiError(same.error, 422, 'same_password');
    const weak = await supabase.auth.updateUser({ password: 'abc' });
    expect(isAuthWeakPasswordError(weak.error)).toBe(true);
    expect(weak.error).toMatchObject({ status: 422, reasons: ['length'] });
    expect(weak.error?.message).toBe('Password should be at least 6 characters.');

    const changed = await supabase.auth.updateUser({ password: 'a-brand-new-password' });
    expect(changed.error).toBeNull();
    const old = await client(stack).auth.signInWithPassword({ email, password: PASSWORD });
    expectApiError(old.error, 400, 'invalid_credentials');
    await signIn(email, 'a-brand-new-password');
  });

  it('records an email change as pending (new_email) and refuses app_metadata', async () => {
    const { email } = await createUser('emailchange');
    const { supabase } = await signIn(email);
    const next = uniqueEmail('next');
    const { data, error } = await supabase.auth.updateUser({ email: next });
    expect(error).toBeNull();
    expect(data.user?.email).toBe(email);
    expect(data.user?.new_email).toBe(next);
    expect(data.user?.email_change_sent_at).toBeDefined();

    const res = await fetch(`${apiUrl(stack)}/auth/v1/user`, {
      method: 'PUT',
      headers: {
        apikey: stack.local.config.anonKey,
        authorization: `Bearer ${(await supabase.auth.getSession()).data.session!.access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ app_metadata: { user_role: 'admin' } }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      code: 403,
      error_code: 'not_admin',
      msg: 'Updating app_metadata requires admin privileges',
    });
  });
});

describe('refresh tokens', () => {
  it('rotate on every refresh; a replaced token is refused and takes the session down', async () => {
    const { email } = await createUser('rotate');
    const { session } = await signIn(email);
    const anon = client(stack);
    const a = session.refresh_token;
    const first = await anon.auth.refreshSession({ refresh_token: a });
    expect(first.error).toBeNull();
    const b = first.data.session!.refresh_token;
    expect(b).not.toBe(a);
    expect(decodeJwt(first.data.session!.access_token)['session_id']).toBe(
      decodeJwt(session.access_token)['session_id'],
    );

    // The client lost the answer to its last refresh: the old token yields the live one, not a new one.
    const retried = await client(stack).auth.refreshSession({ refresh_token: a });
    expect(retried.error).toBeNull();
    expect(retried.data.session?.refresh_token).toBe(b);

    const second = await client(stack).auth.refreshSession({ refresh_token: b });
    const c = second.data.session!.refresh_token;
    expect(c).not.toBe(b);

    const reused = await client(stack).auth.refreshSession({ refresh_token: a });
    expectApiError(reused.error, 400, 'refresh_token_already_used');
    expect(reused.error?.message).toBe('Invalid Refresh Token: Already Used');
    // Reuse revokes the family: the newest token is dead too.
    const after = await client(stack).auth.refreshSession({ refresh_token: c });
    expectApiError(after.error, 400, 'refresh_token_already_used');
  });

  it('lets concurrent refreshes with one token (several tabs) converge on the same new token', async () => {
    const { email } = await createUser('concurrent');
    const { session } = await signIn(email);
    const results = await Promise.all(
      [1, 2, 3].map(() => client(stack).auth.refreshSession({ refresh_token: session.refresh_token })),
    );
    for (const r of results) expect(r.error).toBeNull();
    const tokens = new Set(results.map((r) => r.data.session?.refresh_token));
    expect(tokens.size).toBe(1);
    expect(tokens.has(session.refresh_token)).toBe(false);
  });

  it('die with their user: a deleted user cannot refresh, a banned one is refused by name', async () => {
    const deleted = await createUser('deleted');
    const d = await signIn(deleted.email);
    await admin().auth.admin.deleteUser(deleted.user!.id);
    const gone = await client(stack).auth.refreshSession({ refresh_token: d.session.refresh_token });
    expectApiError(gone.error, 400, 'refresh_token_not_found');
    expect(await rawUser(d.session.access_token)).toEqual({
      status: 403,
      body: { code: 'user_not_found', message: 'User from sub claim in JWT does not exist' },
    });

    const banned = await createUser('banned-later');
    const b = await signIn(banned.email);
    await admin().auth.admin.updateUserById(banned.user!.id, { ban_duration: '1h' });
    const refused = await client(stack).auth.refreshSession({ refresh_token: b.session.refresh_token });
    expectApiError(refused.error, 400, 'user_banned');
    expect(refused.error?.message).toBe('Invalid Refresh Token: User Banned');
    expect(await rawUser(b.session.access_token)).toEqual({
      status: 403,
      body: { code: 'user_banned', message: 'User is banned' },
    });
  });

  it('answers unknown and malformed tokens as GoTrue does', async () => {
    const unknown = await client(stack).auth.refreshSession({ refresh_token: 'abcdefghijkl' });
    expectApiError(unknown.error, 400, 'refresh_token_not_found');
    expect(unknown.error?.message).toBe('Invalid Refresh Token: Refresh Token Not Found');
    for (const bad of ['short', 'ABCDEFGHIJKL', 'this-is-not-a-valid-token']) {
      const res = await client(stack).auth.refreshSession({ refresh_token: bad });
      expectApiError(res.error, 400, 'validation_failed');
      expect(res.error?.message).toBe('Refresh token is not valid');
    }
  });

  it('die with the session on signOut, and the access token stops working', async () => {
    const { email } = await createUser('signout');
    const { supabase, session } = await signIn(email);
    const { error } = await supabase.auth.signOut();
    expect(error).toBeNull();
    const refreshed = await client(stack).auth.refreshSession({ refresh_token: session.refresh_token });
    expectApiError(refreshed.error, 400, 'refresh_token_not_found');
    await expectSessionGone(session.access_token);
  });

  it('logout scopes: local ends this session only, others every other one', async () => {
    const { email } = await createUser('scopes');
    const one = await signIn(email);
    const two = await signIn(email);
    const three = await signIn(email);
    expect((await one.supabase.auth.signOut({ scope: 'local' })).error).toBeNull();
    await expectSessionGone(one.session.access_token);
    expect((await client(stack).auth.getUser(two.session.access_token)).error).toBeNull();
    expect((await two.supabase.auth.signOut({ scope: 'others' })).error).toBeNull();
    expect((await client(stack).auth.getUser(two.session.access_token)).error).toBeNull();
    await expectSessionGone(three.session.access_token);
  });
});

describe('gateway keys and error shapes', () => {
  it('accepts sb_publishable for sign-in and sb_secret for the admin API', async () => {
    const { email } = await createUser('sbkeys');
    const { session } = await signIn(email, PASSWORD, stack.local.config.publishableKey);
    expect(decodeJwt(session.access_token)['role']).toBe('authenticated');
    const secret = client(stack, stack.local.config.secretKey);
    const { data, error } = await secret.auth.admin.listUsers({ page: 1, perPage: 5 });
    expect(error).toBeNull();
    expect(data.users.length).toBeGreaterThan(0);
  });

  it('sends the legacy error shape without the version header and the 2024-01-01 shape with it', async () => {
    const body = JSON.stringify({ email: uniqueEmail('shape'), password: 'wrong-password' });
    const url = `${apiUrl(stack)}/auth/v1/token?grant_type=password`;
    const headers = { apikey: stack.local.config.anonKey, 'content-type': 'application/json' };
    const legacy = await fetch(url, { method: 'POST', headers, body });
    expect(legacy.status).toBe(400);
    expect(legacy.headers.get('x-sb-error-code')).toBe('invalid_credentials');
    expect(legacy.headers.get('x-supabase-api-version')).toBeNull();
    expect(await legacy.json()).toEqual({
      code: 400,
      error_code: 'invalid_credentials',
      msg: 'Invalid login credentials',
    });

    const modern = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'x-supabase-api-version': '2024-01-01' },
      body,
    });
    expect(modern.headers.get('x-supabase-api-version')).toBe('2024-01-01');
    expect(modern.headers.get('x-sb-error-code')).toBe('invalid_credentials');
    expect(await modern.json()).toEqual({
      code: 'invalid_credentials',
      message: 'Invalid login credentials',
    });
  });

  it('is behind the gateway: no API key is the gateway 401, not a GoTrue answer', async () => {
    const res = await fetch(`${apiUrl(stack)}/auth/v1/settings`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: 'No API key found in request' });
  });

  it('answers /health, /settings and the (empty, HS256-only) JWKS in GoTrue shape', async () => {
    const headers = { apikey: stack.local.config.anonKey };
    // Health and JWKS are open gateway routes: no API key needed.
    const health = await fetch(`${apiUrl(stack)}/auth/v1/health`);
    expect(await health.json()).toMatchObject({ name: 'GoTrue' });
    const jwks = await fetch(`${apiUrl(stack)}/auth/v1/.well-known/jwks.json`);
    expect(await jwks.json()).toEqual({ keys: [] });
    const settings = await (await fetch(`${apiUrl(stack)}/auth/v1/settings`, { headers })).json();
    expect(settings.external.email).toBe(true);
    expect(settings).toHaveProperty('disable_signup');
  });

  it('refuses sign-up as a GoTrue with signups disabled does', async () => {
    const { data, error } = await client(stack).auth.signUp({
      email: uniqueEmail('signup'),
      password: PASSWORD,
    });
    expectApiError(error, 422, 'signup_disabled');
    expect(error?.message).toBe('Signups not allowed for this instance');
    expect(data.user).toBeNull();
  });

  it('rejects unsupported grants', async () => {
    const res = await fetch(`${apiUrl(stack)}/auth/v1/token?grant_type=magic`, {
      method: 'POST',
      headers: { apikey: stack.local.config.anonKey, 'x-supabase-api-version': '2024-01-01' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 'invalid_credentials', message: 'unsupported_grant_type' });
  });
});
