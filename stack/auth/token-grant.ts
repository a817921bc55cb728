import type { IncomingMessage } from 'node:http';
import type { ProjectContext } from '../context.ts';
import { AuthError, badRequest } from './errors.ts';
import type { AccessTokenHook } from './hook.ts';
import { passwordMatches } from './passwords.ts';
import { readParams, requestAud, stringParam } from './request.ts';
import {
  activeRefreshToken,
  clientIp,
  lockRefreshToken,
  markRefreshed,
  revokeSessionTokens,
  startSession,
  swapRefreshToken,
} from './sessions.ts';
import { query, transaction } from './sql.ts';
import { generateAccessToken, tokenResponse } from './tokens.ts';
import { findUserByEmail, findUserById, findUserByPhone, isBanned } from './users.ts';

const INVALID_LOGIN = 'Invalid login credentials';
/**
 * GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL. GoTrue's own default is 0: a revoked token that is
 * not the parent of the live one is refused at once (hosted and the CLI allow 10 s).
 */
const REUSE_INTERVAL_SECONDS = 0;

/** POST /token?grant_type=… (GoTrue internal/api/token.go). */
export async function tokenGrant(
  ctx: ProjectContext,
  hook: AccessTokenHook | undefined,
  req: IncomingMessage,
  url: URL,
): Promise<Record<string, unknown>> {
  const grantType = url.searchParams.get('grant_type');
  if (grantType === 'password') return passwordGrant(ctx, hook, req);
  if (grantType === 'refresh_token') return refreshTokenGrant(ctx, hook, req);
  throw badRequest('invalid_credentials', 'unsupported_grant_type');
}

async function passwordGrant(ctx: ProjectContext, hook: AccessTokenHook | undefined, req: IncomingMessage) {
  const params = await readParams(req);
  const email = stringParam(params, 'email') ?? '';
  const phone = stringParam(params, 'phone') ?? '';
  const password = stringParam(params, 'password') ?? '';
  if (email && phone) {
    throw badRequest(
      'validation_failed',
      'Only an email address or phone number should be provided on login.',
    );
  }
  const aud = requestAud(req);
  let user: Awaited<ReturnType<typeof findUserByEmail>>;
  if (email) user = await findUserByEmail(ctx.db.admin, email, aud);
  else if (phone) {
    user = await findUserByPhone(ctx.db.admin, phone.replace(/^\+/, '').replace(/\s/g, ''), aud);
  } else throw badRequest('validation_failed', 'missing email or phone');

  if (!user?.row.encrypted_password) throw badRequest('invalid_credentials', INVALID_LOGIN);
  if (isBanned(user.row)) throw badRequest('user_banned', 'User is banned');
  if (!(await passwordMatches(ctx.db.admin, user.row.encrypted_password, password))) {
    throw badRequest('invalid_credentials', INVALID_LOGIN);
  }
  if (email && !user.row.email_confirmed_at) throw badRequest('email_not_confirmed', 'Email not confirmed');
  if (phone && !user.row.phone_confirmed_at) throw badRequest('phone_not_confirmed', 'Phone not confirmed');

  const userId = user.row.id;
  return transaction(ctx.db.admin, async (client) => {
    const { sessionId, refreshToken } = await startSession(client, userId, 'password', req);
    await client.query(
      'update auth.identities set last_sign_in_at = now() where user_id = $1 and provider = $2',
      [userId, email ? 'email' : 'phone'],
    );
    const fresh = await findUserById(client, userId);
    if (!fresh) throw new AuthError(500, undefined, 'Database error querying schema');
    const access = await generateAccessToken(ctx, client, hook, {
      user: fresh,
      sessionId,
      method: 'password',
      ip: clientIp(req),
    });
    return tokenResponse(access, refreshToken, fresh);
  });
}

const LEGACY_REFRESH_TOKEN = /^[a-z0-9]{12}$/;

/** GoTrue's RefreshTokenGrant for its (legacy, table-backed) refresh tokens, rotation on. */
async function refreshTokenGrant(
  ctx: ProjectContext,
  hook: AccessTokenHook | undefined,
  req: IncomingMessage,
) {
  const params = await readParams(req);
  const presented = stringParam(params, 'refresh_token') ?? '';
  // Only 12-character tokens exist here; longer ones would be v2 tokens this server never issues.
  if (!LEGACY_REFRESH_TOKEN.test(presented))
    throw badRequest('validation_failed', 'Refresh token is not valid');

  // A reuse that revokes the session must be committed before it is reported (NewCommitWithError).
  const outcome = await transaction(ctx.db.admin, async (client) => {
    const token = await lockRefreshToken(client, presented);
    const user = token && (await findUserById(client, token.user_id));
    if (!token || !user) {
      return {
        error: badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found'),
      };
    }
    if (isBanned(user.row)) return { error: badRequest('user_banned', 'Invalid Refresh Token: User Banned') };
    const session = token.session_id
      ? (
          await query<{ id: string; expired: boolean }>(
            client,
            'select id, coalesce(not_after < now(), false) as expired from auth.sessions where id = $1 for update',
            [token.session_id],
          )
        )[0]
      : undefined;
    if (!session) {
      await client.query('delete from auth.refresh_tokens where id = $1', [token.id]);
      return { error: badRequest('session_not_found', 'Invalid Refresh Token: No Valid Session Found') };
    }
    if (session.expired)
      return { error: badRequest('session_expired', 'Invalid Refresh Token: Session Expired') };

    let issued: string | undefined;
    if (token.revoked) {
      const active = await activeRefreshToken(client, session.id);
      if (active && active.parent === token.token) {
        // The client lost the answer to its last refresh: hand back the live token, do not mint one.
        issued = active.token;
      } else {
        const [reuse] = await query<{ allowed: boolean }>(
          client,
          `select now() <= $1::timestamptz + make_interval(secs => $2) as allowed`,
          [token.updated_at, REUSE_INTERVAL_SECONDS],
        );
        if (!reuse?.allowed) {
          await revokeSessionTokens(client, session.id);
          return { error: badRequest('refresh_token_already_used', 'Invalid Refresh Token: Already Used') };
        }
      }
    }
    issued ??= await swapRefreshToken(client, token);
    const access = await generateAccessToken(ctx, client, hook, {
      user,
      sessionId: session.id,
      method: 'token_refresh',
      ip: clientIp(req),
    });
    await markRefreshed(client, session.id, req);
    return { response: tokenResponse(access, issued, user) };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.response;
}
