import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RestWorld, startRestWorld, userToken } from './rest-support.ts';

/**
 * Who the REST service runs a request as: the token's role for the transaction with its claims, so
 * RLS isolates users, refuses anon, and lets service_role through; and the tokens PostgREST refuses
 * (forged, expired, `alg: none`, malformed) with its 401 codes and WWW-Authenticate header.
 */

let w: RestWorld;

beforeAll(async () => {
  w = await startRestWorld();
});

afterAll(async () => {
  await w?.stack.stop();
});

describe('row level security', () => {
  beforeEach(async () => {
    await w.sql('delete from public.rest_items');
    await w.alice.db.from('rest_items').insert([{ title: 'alice 1' }, { title: 'alice 2' }]);
    await w.bob.db.from('rest_items').insert({ title: 'bob 1' });
  });

  it('each user sees, updates and deletes only their own rows', async () => {
    const alice = await w.alice.db.from('rest_items').select('title, owner').order('title');
    expect(alice.data).toEqual([
      { title: 'alice 1', owner: w.alice.id },
      { title: 'alice 2', owner: w.alice.id },
    ]);
    const bob = await w.bob.db.from('rest_items').select('title');
    expect(bob.data).toEqual([{ title: 'bob 1' }]);

    const hijack = await w.bob.db
      .from('rest_items')
      .update({ title: 'stolen' })
      .eq('title', 'alice 1')
      .select();
    expect(hijack).toMatchObject({ status: 200, data: [], error: null });
    const wipe = await w.bob.db.from('rest_items').delete().like('title', 'alice*').select();
    expect(wipe).toMatchObject({ status: 200, data: [], error: null });
    const rows = await w.sql('select title from public.rest_items order by title');
    expect(rows).toEqual([{ title: 'alice 1' }, { title: 'alice 2' }, { title: 'bob 1' }]);
  });

  it('anon sees no rows (200 and an empty array, not an error)', async () => {
    const res = await w.anon.from('rest_items').select('*', { count: 'exact' });
    expect(res).toMatchObject({ status: 200, data: [], count: 0, error: null });
  });

  it('service_role bypasses RLS', async () => {
    const res = await w.service.from('rest_items').select('title').order('title');
    expect(res.data).toEqual([{ title: 'alice 1' }, { title: 'alice 2' }, { title: 'bob 1' }]);
  });

  it('an insert failing WITH CHECK is 403 for a user, with Postgres message verbatim', async () => {
    const res = await w.alice.db.from('rest_items').insert({ title: 'as bob', owner: w.bob.id });
    expect(res.status).toBe(403);
    expect(res.error).toEqual({
      code: '42501',
      details: null,
      hint: null,
      message: 'new row violates row-level security policy for table "rest_items"',
    });
  });

  it('the same violation is 401 with WWW-Authenticate: Bearer for anon', async () => {
    const viaClient = await w.anon.from('rest_items').insert({ title: 'anon', owner: w.alice.id });
    expect(viaClient.status).toBe(401);
    expect(viaClient.error).toEqual({
      code: '42501',
      details: null,
      hint: null,
      message: 'new row violates row-level security policy for table "rest_items"',
    });
    const raw = await w.raw('/rest_items', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'anon', owner: w.alice.id }),
    });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('a missing GRANT is "permission denied for table" (401 anon, 403 authenticated)', async () => {
    await w.sql(
      'create table public.rest_private (id int); revoke all on public.rest_private from anon, authenticated',
    );
    const anon = await w.anon.from('rest_private').select('*');
    expect(anon.status).toBe(401);
    expect(anon.error).toMatchObject({ code: '42501', message: 'permission denied for table rest_private' });
    const alice = await w.alice.db.from('rest_private').select('*');
    expect(alice.status).toBe(403);
    expect(alice.error).toMatchObject({ code: '42501', message: 'permission denied for table rest_private' });
  });

  it('auth.uid() and auth.jwt() see the token claims inside the transaction', async () => {
    const token = await userToken(w.stack, w.alice.id, { user_role: 'agent' });
    await w.sql(`create or replace view public.rest_me with (security_invoker = true) as
      select auth.uid() as uid, auth.jwt()->>'user_role' as user_role, current_user as db_role`);
    const { data, error } = await w.as(token).from('rest_me').select('*').single();
    expect(error).toBeNull();
    expect(data).toEqual({ uid: w.alice.id, user_role: 'agent', db_role: 'authenticated' });
  });

  it('sb_publishable_ and sb_secret_ keys map to anon and service_role as behind Kong', async () => {
    const res = await fetch(`${w.url}/rest/v1/rest_items?select=title&order=title`, {
      headers: { apikey: w.stack.local.config.secretKey },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveLength(3);
    const pub = await fetch(`${w.url}/rest/v1/rest_items?select=title`, {
      headers: { apikey: w.stack.local.config.publishableKey },
    });
    expect(await pub.json()).toEqual([]);
  });
});

describe('roles the token names', () => {
  it('a role that does not exist is 401 with Postgres words', async () => {
    const token = await userToken(w.stack, w.alice.id, { role: 'no_such_role' });
    const res = await w.as(token).from('rest_items').select('*');
    expect(res.status).toBe(401);
    expect(res.error).toEqual({
      code: '22023',
      details: null,
      hint: null,
      message: 'role "no_such_role" does not exist',
    });
  });

  it('a role authenticator is not granted (postgres) is refused with 42501', async () => {
    const token = await userToken(w.stack, w.alice.id, { role: 'postgres' });
    const res = await w.as(token).from('rest_items').select('*');
    expect(res.status).toBe(403);
    expect(res.error).toMatchObject({ code: '42501', message: 'permission denied to set role "postgres"' });
  });
});

describe('refused tokens', () => {
  const now = () => Math.floor(Date.now() / 1000);

  async function expectRefusal(token: string, code: string, message: string) {
    const res = await w.raw('/rest_items?select=id', { token });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="${message}"`,
    );
    expect(await res.json()).toEqual({ code, details: null, hint: null, message });
    const viaClient = await w.as(token).from('rest_items').select('id');
    expect(viaClient.status).toBe(401);
    expect(viaClient.error?.code).toBe(code);
  }

  it('a token signed with another secret is PGRST301', async () => {
    const forged = await new SignJWT({ role: 'service_role', exp: now() + 3600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode('not-the-project-secret-but-long-enough-to-sign'));
    await expectRefusal(forged, 'PGRST301', 'JWT cryptographic operation failed');
  });

  it('an expired token is PGRST303 "JWT expired"', async () => {
    const expired = await w.stack.local.ctx.jwt.sign({
      role: 'authenticated',
      sub: w.alice.id,
      exp: now() - 120,
    });
    await expectRefusal(expired, 'PGRST303', 'JWT expired');
  });

  it('alg: none is refused, whatever it claims', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ role: 'service_role', exp: now() + 3600 })}.`;
    await expectRefusal(none, 'PGRST301', 'Wrong or unsupported encoding algorithm');
  });

  it('a token that is not three parts is PGRST301 with the count', async () => {
    await expectRefusal('not-a-jwt', 'PGRST301', 'Expected 3 parts in JWT; got 1');
  });

  it('a refused token changes nothing', async () => {
    const forged = await new SignJWT({ role: 'service_role', exp: now() + 3600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode('not-the-project-secret-but-long-enough-to-sign'));
    const before = await w.sql('select count(*)::int as n from public.rest_items');
    const res = await w.as(forged).from('rest_items').delete().neq('id', 0);
    expect(res.status).toBe(401);
    expect(await w.sql('select count(*)::int as n from public.rest_items')).toEqual(before);
  });

  it('without an apikey the gateway refuses before the service', async () => {
    const res = await fetch(`${w.url}/rest/v1/rest_items`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: 'No API key found in request' });
  });
});
