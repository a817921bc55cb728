import type { IncomingMessage } from 'node:http';
import type { ProjectContext } from '../context.ts';
import { gatewayCredentials } from '../http/gateway.ts';
import { type Claims, JwtError } from '../jwt.ts';
import { isOpaqueKey } from '../keys.ts';
import { AuthError, forbidden } from './errors.ts';
import { query } from './sql.ts';
import { findUserById, isBanned, type User } from './users.ts';

/** GoTrue's GOTRUE_JWT_ADMIN_ROLES as the CLI sets it. */
const ADMIN_ROLES = ['service_role'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The JWT GoTrue sees after the gateway: the caller's own Bearer, or the JWT its API key stands for
 * (PROTOCOL.md §5.3). Verified with the project secret; every refusal is GoTrue's 403 `bad_jwt`.
 */
export async function verifiedClaims(ctx: ProjectContext, req: IncomingMessage, url: URL): Promise<Claims> {
  // No API key at all is the gateway's own 401 (HttpError), never reaching GoTrue.
  const { apiKey, token } = gatewayCredentials(req, url, ctx.keys);
  // Kong forwards a legacy JWT apikey as a bare `Authorization: <jwt>` and a non-Bearer header as
  // is; GoTrue's bearer regexp refuses both.
  const header = req.headers.authorization;
  if (
    (header === undefined && !isOpaqueKey(apiKey)) ||
    (header !== undefined && !/^Bearer\s+\S/i.test(header))
  ) {
    throw new AuthError(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
  }
  try {
    return await ctx.jwt.verify(token);
  } catch (cause) {
    if (cause instanceof JwtError) {
      throw forbidden(
        'bad_jwt',
        `invalid JWT: unable to parse or verify signature, ${goJwtReason(cause)}`,
        cause,
      );
    }
    throw cause;
  }
}

/** golang-jwt's wording for each refusal, which is what GoTrue puts after the comma. */
function goJwtReason(error: JwtError): string {
  const p = error.problem;
  switch (p.kind) {
    case 'malformed':
      return `token is malformed: ${p.detail}`;
    case 'signature':
      return 'token signature is invalid: signature is invalid';
    case 'expired':
      return 'token has invalid claims: token is expired';
    case 'unsupported_alg':
      return `token signature is invalid: signing method ${p.alg} is invalid`;
    case 'missing_claims':
      return `token has invalid claims: ${p.detail}`;
  }
}

export interface Caller {
  claims: Claims;
  user: User;
  /** The session named by `session_id`, when the token has one (GoTrue allows tokens without). */
  sessionId: string | undefined;
}

/**
 * GoTrue's requireAuthentication: a valid user JWT whose `sub` user and `session_id` session still
 * exist, and a user who is not banned.
 */
export async function requireUser(ctx: ProjectContext, req: IncomingMessage, url: URL): Promise<Caller> {
  const claims = await verifiedClaims(ctx, req, url);
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  if (!sub) throw forbidden('bad_jwt', 'invalid claim: missing sub claim');
  if (!UUID.test(sub)) throw new AuthError(400, 'bad_jwt', 'invalid claim: sub claim must be a UUID');
  const user = await findUserById(ctx.db.admin, sub);
  if (!user) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');
  const sid = typeof claims['session_id'] === 'string' ? claims['session_id'] : '';
  let sessionId: string | undefined;
  if (sid && sid !== '00000000-0000-0000-0000-000000000000') {
    if (!UUID.test(sid)) throw forbidden('bad_jwt', 'invalid claim: session_id claim must be a UUID');
    const rows = await query<{ id: string }>(ctx.db.admin, 'select id from auth.sessions where id = $1', [
      sid,
    ]);
    if (rows.length === 0) {
      throw forbidden('session_not_found', 'Session from session_id claim in JWT does not exist');
    }
    sessionId = sid;
  }
  if (isBanned(user.row)) throw forbidden('user_banned', 'User is banned');
  return { claims, user, sessionId };
}

/** GoTrue's requireAdminCredentials + requireAdmin: a verified JWT whose role is an admin role. */
export async function requireAdmin(ctx: ProjectContext, req: IncomingMessage, url: URL): Promise<Claims> {
  const claims = await verifiedClaims(ctx, req, url);
  if (!ADMIN_ROLES.includes(claims.role)) throw forbidden('not_admin', 'User not allowed');
  return claims;
}
