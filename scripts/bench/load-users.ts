/**
 * Load users: many real rows in auth.users (with their email identity), created in one SQL statement
 * because GoTrue's bcrypt at cost 10 makes the admin API the slow part of a 2,000-user setup.
 * Their tokens are minted with the project's JWT secret in the exact claim shape a password sign-in
 * returns after the access token hook (checked against a real sign-in by `assertSameClaimShape`).
 */
import { randomUUID } from 'node:crypto';
import '../../stack/node-support.ts';
import { createClient } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import type pg from 'pg';
import ws from 'ws';
import { type Claims, JwtKeys } from '../../stack/jwt.ts';
import type { Target } from './child-stack.ts';

export type HelpdeskRole = 'client' | 'agent' | 'admin';

export interface LoadUser {
  id: string;
  email: string;
  role: HelpdeskRole;
}

export const LOAD_EMAIL_DOMAIN = 'rtm-bench.test';
/** Load users only; bcrypt cost 4 keeps the few real sign-ins of a run cheap. Not a secret: a throwaway bench value. */
export const LOAD_PASSWORD = 'rtm-bench-load-password';

export async function createLoadUsers(
  db: pg.Pool,
  runId: string,
  roles: HelpdeskRole[],
): Promise<LoadUser[]> {
  const users = roles.map((role, i) => ({
    id: randomUUID(),
    email: `load-${runId}-${i}@${LOAD_EMAIL_DOMAIN}`,
    role,
  }));
  const { rows } = await db.query<{ h: string }>(
    "select extensions.crypt($1, extensions.gen_salt('bf', 4)) as h",
    [LOAD_PASSWORD],
  );
  const hash = rows[0]?.h;
  for (let i = 0; i < users.length; i += 1000) {
    const batch = users.slice(i, i + 1000);
    await db.query(
      `with u as (
         insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
           confirmation_token, recovery_token, email_change_token_new, email_change)
         select '00000000-0000-0000-0000-000000000000', x.id, 'authenticated', 'authenticated', x.email, $4,
                now(), jsonb_build_object('provider', 'email', 'providers', jsonb_build_array('email'), 'user_role', x.role),
                '{}'::jsonb, now(), now(), '', '', '', ''
           from unnest($1::uuid[], $2::text[], $3::text[]) as x(id, email, role)
         returning id, email)
       insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
       select u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true,
              'phone_verified', false), 'email', now(), now(), now()
         from u`,
      [batch.map((u) => u.id), batch.map((u) => u.email), batch.map((u) => u.role), hash],
    );
  }
  return users;
}

/** Remove this run's load users (their tickets go with them: created_by cascades). */
export async function deleteLoadUsers(db: pg.Pool, runId: string): Promise<void> {
  await db.query('delete from auth.users where email like $1', [`load-${runId}-%@${LOAD_EMAIL_DOMAIN}`]);
}

/** The claims GoTrue + the help-desk hook put in this user's access token, valid for an hour. */
export function loadClaims(issuer: string, user: LoadUser): Claims {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    sub: user.id,
    aud: 'authenticated',
    exp: iat + 3600,
    iat,
    email: user.email,
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'], user_role: user.role },
    user_metadata: {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: iat }],
    session_id: randomUUID(),
    is_anonymous: false,
    user_role: user.role,
  };
}

/** A token as GoTrue + the help-desk hook would issue it for this user. */
export async function mintToken(target: Target, user: LoadUser): Promise<string> {
  return new JwtKeys(target.jwtSecret).sign(loadClaims(target.issuer, user));
}

/** A real password sign-in through the target's auth API; returns the access token. */
export async function signIn(target: Target, user: LoadUser): Promise<string> {
  const sb = createClient(target.url, target.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    // Node 20 has no native WebSocket; supabase-js builds its realtime client even for auth calls.
    realtime: { transport: ws as never },
  });
  const { data, error } = await sb.auth.signInWithPassword({ email: user.email, password: LOAD_PASSWORD });
  if (error || !data.session) {
    throw new Error(
      `Sign-in of load user ${user.email} at ${target.url} failed: ${error?.message ?? 'no session'} (status ${error?.status}). The user is created by SQL; check the auth service's password grant.`,
    );
  }
  return data.session.access_token;
}

/** Minted tokens must carry the same claims (names and role claims) as a real sign-in, or the bench measures something else. */
export function assertSameClaimShape(real: string, minted: string): void {
  const a = decodeJwt(real);
  const b = decodeJwt(minted);
  const ka = Object.keys(a).sort().join(',');
  const kb = Object.keys(b).sort().join(',');
  if (ka !== kb || a['role'] !== b['role'] || a['user_role'] !== b['user_role'] || a['sub'] !== b['sub']) {
    throw new Error(
      `Minted load tokens differ from a real sign-in: real claims [${ka}] role=${a['role']} user_role=${a['user_role']}, minted [${kb}] role=${b['role']} user_role=${b['user_role']}. Update mintToken() in bench/load-users.ts to the auth service's claim set.`,
    );
  }
}
