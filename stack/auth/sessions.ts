import { randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import { type Queryable, query } from './sql.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * GoTrue's legacy refresh token: 12 random lower-case alphanumerics (crypto.SecureAlphanumeric),
 * the only shape its refresh grant accepts at exactly 12 characters.
 */
export function newRefreshToken(): string {
  let token = '';
  for (let i = 0; i < 12; i++) token += ALPHABET[randomInt(ALPHABET.length)];
  return token;
}

export interface RefreshTokenRow {
  id: string;
  token: string;
  user_id: string;
  revoked: boolean;
  parent: string | null;
  session_id: string | null;
  updated_at: string;
}

/** The client address as GoTrue records it on the session (utilities.GetIPAddress). */
export function clientIp(req: IncomingMessage): string | undefined {
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first || req.socket.remoteAddress || undefined;
}

/**
 * A new session for a sign-in (models.GrantAuthenticatedUser + AddClaimToSession): the session, its
 * `amr` entry for `method`, its first refresh token, and the user's last_sign_in_at.
 */
export async function startSession(
  client: pg.PoolClient,
  userId: string,
  method: string,
  req: IncomingMessage,
): Promise<{ sessionId: string; refreshToken: string }> {
  const sessionId = randomUUID();
  const userAgent = req.headers['user-agent'] ?? null;
  await client.query(
    `insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
     values ($1, $2, now(), now(), 'aal1', $3, $4)`,
    [sessionId, userId, userAgent, clientIp(req) ?? null],
  );
  await addAmrClaim(client, sessionId, method);
  const refreshToken = newRefreshToken();
  await client.query(
    `insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, parent, session_id)
     values ($1, $2, false, now(), now(), '', $3)`,
    [refreshToken, userId, sessionId],
  );
  await client.query('update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1', [
    userId,
  ]);
  return { sessionId, refreshToken };
}

export async function addAmrClaim(client: pg.PoolClient, sessionId: string, method: string): Promise<void> {
  await client.query(
    `insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
     values ($1, $2, now(), now(), $3)
     on conflict on constraint mfa_amr_claims_session_id_authentication_method_pkey
     do update set updated_at = now()`,
    [randomUUID(), sessionId, method],
  );
}

/** The session's `amr` claim, most recent first (Session.CalculateAALAndAMR). */
export async function amrOf(
  db: Queryable,
  sessionId: string,
): Promise<{ method: string; timestamp: number }[]> {
  const rows = await query<{ method: string; timestamp: string }>(
    db,
    `select authentication_method as method, floor(extract(epoch from updated_at))::bigint::text as timestamp
       from auth.mfa_amr_claims where session_id = $1 order by updated_at desc`,
    [sessionId],
  );
  return rows.map((r) => ({ method: r.method, timestamp: Number(r.timestamp) }));
}

/** Lock and return a refresh token row, or undefined when no such token exists. */
export async function lockRefreshToken(
  client: pg.PoolClient,
  token: string,
): Promise<RefreshTokenRow | undefined> {
  const [row] = await query<RefreshTokenRow>(
    client,
    `select id::text, token, user_id, revoked, parent, session_id, updated_at
       from auth.refresh_tokens where token = $1 limit 1 for update`,
    [token],
  );
  return row;
}

/** The session's newest unrevoked token (Session.FindCurrentlyActiveRefreshToken). */
export async function activeRefreshToken(
  client: pg.PoolClient,
  sessionId: string,
): Promise<RefreshTokenRow | undefined> {
  const [row] = await query<RefreshTokenRow>(
    client,
    `select id::text, token, user_id, revoked, parent, session_id, updated_at
       from auth.refresh_tokens where session_id = $1 and revoked is false order by id desc limit 1`,
    [sessionId],
  );
  return row;
}

/** models.GrantRefreshTokenSwap: revoke `old` and issue its child in the same session. */
export async function swapRefreshToken(client: pg.PoolClient, old: RefreshTokenRow): Promise<string> {
  await client.query('update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1', [
    old.id,
  ]);
  const token = newRefreshToken();
  await client.query(
    `insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, parent, session_id)
     values ($1, $2, false, now(), now(), $3, $4)`,
    [token, old.user_id, old.token, old.session_id],
  );
  return token;
}

/** models.RevokeTokenFamily for session-bound tokens: every live token of the session dies. */
export async function revokeSessionTokens(client: pg.PoolClient, sessionId: string): Promise<void> {
  await client.query(
    'update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and revoked = false',
    [sessionId],
  );
}

/** Session.UpdateOnlyRefreshInfo. */
export async function markRefreshed(client: pg.PoolClient, sessionId: string, req: IncomingMessage) {
  await client.query(
    `update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now(), user_agent = $2, ip = $3
      where id = $1`,
    [sessionId, req.headers['user-agent'] ?? null, clientIp(req) ?? null],
  );
}

export type LogoutScope = 'global' | 'local' | 'others';

/**
 * models.Logout / LogoutSession / LogoutAllExceptMe: deleting sessions cascades to their refresh
 * tokens and amr claims, so every refresh token of a logged-out session is gone.
 */
export async function endSessions(
  db: Queryable,
  userId: string,
  sessionId: string | undefined,
  scope: LogoutScope,
): Promise<void> {
  if (sessionId && scope === 'local') {
    await db.query('delete from auth.sessions where id = $1', [sessionId]);
  } else if (sessionId && scope === 'others') {
    await db.query('delete from auth.sessions where user_id = $1 and id <> $2', [userId, sessionId]);
  } else {
    await db.query('delete from auth.sessions where user_id = $1', [userId]);
  }
}
