import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSeedUsers } from '../portals/seed-users.ts';
import type { Stack } from '../stack/index.ts';
import { fingerprint } from '../stack/keys.ts';
import { apiUrl, client, startTestStack } from './support/stack.ts';

/**
 * The seeding helper the prod-like project and the matrix's seeded-user fixture use: it goes through
 * the admin API only, so it is checked here against the embedded Auth exactly as it would run
 * against a hosted project.
 */

let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function signInClaims(email: string, password: string) {
  const { data, error } = await client(stack).auth.signInWithPassword({ email, password });
  if (error) throw new Error(`${email} could not sign in: ${error.message}`, { cause: error });
  return decodeJwt(data.session.access_token);
}

describe('ensureSeedUsers', () => {
  it('creates missing users confirmed, with their role, and the hook puts it in their JWT', async () => {
    const email = `seed-${randomUUID()}@helpdesk.test`;
    const password = `pw-${randomUUID()}`;
    const [seeded] = await ensureSeedUsers(apiUrl(stack), stack.local.config.serviceRoleKey, [
      { role: 'agent', email, password },
    ]);
    expect(seeded).toMatchObject({ appMetadata: { user_role: 'agent' }, email, created: true });
    expect(await signInClaims(email, password)).toMatchObject({ sub: seeded!.id, user_role: 'agent' });
  });

  it('updates existing users in place: new password, new role, same id, nothing duplicated', async () => {
    const password = `rotated-${randomUUID()}`;
    const users = [
      { role: 'client', email: 'client@helpdesk.test', password },
      { role: 'admin', email: 'agent@helpdesk.test', password },
    ];
    const first = await ensureSeedUsers(apiUrl(stack), stack.local.config.serviceRoleKey, users);
    expect(first).toEqual([
      {
        appMetadata: { user_role: 'client' },
        email: 'client@helpdesk.test',
        id: '00000000-0000-4000-8000-00000000c001',
        created: false,
      },
      {
        appMetadata: { user_role: 'admin' },
        email: 'agent@helpdesk.test',
        id: '00000000-0000-4000-8000-00000000a001',
        created: false,
      },
    ]);
    expect(await ensureSeedUsers(apiUrl(stack), stack.local.config.serviceRoleKey, users)).toEqual(first);

    expect(await signInClaims('agent@helpdesk.test', password)).toMatchObject({ user_role: 'admin' });
    const old = await client(stack).auth.signInWithPassword({
      email: 'client@helpdesk.test',
      password: 'helpdesk-demo-password',
    });
    expect(old.error?.message).toBe('Invalid login credentials');
    const { rows } = await stack.local.ctx.db.admin.query(
      `select count(*)::int as n, min(raw_app_meta_data::text) as meta from auth.users where email = 'agent@helpdesk.test'`,
    );
    expect(rows[0].n).toBe(1);
    // app_metadata is merged, not replaced: the provider fields GoTrue keeps stay.
    expect(JSON.parse(rows[0].meta)).toMatchObject({
      provider: 'email',
      providers: ['email'],
      user_role: 'admin',
    });
  });

  it('fails naming the user, the server answer and the key fingerprint, never the key', async () => {
    const anonKey = stack.local.config.anonKey;
    const error = await ensureSeedUsers(apiUrl(stack), anonKey, [
      { role: 'client', email: 'client@helpdesk.test', password: 'whatever-password' },
    ]).then(
      () => {
        throw new Error('seeding with the anon key succeeded');
      },
      (e: Error) => e,
    );
    expect(error.message).toBe(
      `Could not list users at ${apiUrl(stack)} (service-role key ${fingerprint(anonKey)}) to seed client@helpdesk.test: ` +
        'HTTP 403 not_admin "User not allowed". Check that the URL is the project\'s API and the key is its service-role key.',
    );
    expect(error.message).not.toContain(anonKey);
    expect(error.cause).toBeDefined();
  });

  it("reports a user the server refuses with the server's own code and message", async () => {
    const error = await ensureSeedUsers(apiUrl(stack), stack.local.config.serviceRoleKey, [
      { role: 'client', email: 'not-an-email', password: `pw-${randomUUID()}` },
    ]).then(
      () => {
        throw new Error('seeding an invalid email succeeded');
      },
      (e: Error) => e,
    );
    expect(error.message).toMatch(
      /^Could not create seeded user not-an-email \(app_metadata \{"user_role":"client"\}\) at http:\/\/127\.0\.0\.1:\d+ \(service-role key [0-9a-f]{8}\): HTTP 400 validation_failed "Unable to validate email address: invalid format"\./,
    );
  });
});
