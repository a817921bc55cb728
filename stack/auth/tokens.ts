import type pg from 'pg';
import type { ProjectContext } from '../context.ts';
import { type AccessTokenHook, runAccessTokenHook } from './hook.ts';
import { amrOf } from './sessions.ts';
import { toJson, type User } from './users.ts';

export interface IssueParams {
  user: User;
  sessionId: string;
  /** GoTrue's AuthenticationMethod: `password`, `token_refresh`, … (the hook sees it). */
  method: string;
  ip?: string | undefined;
}

/**
 * GoTrue's GenerateAccessToken (tokens/service.go): the claim set of PROTOCOL.md §3.9 in GoTrue's
 * key order, replaced by the hook's answer when a hook is configured, signed HS256.
 */
export async function generateAccessToken(
  ctx: ProjectContext,
  client: pg.PoolClient,
  hook: AccessTokenHook | undefined,
  params: IssueParams,
): Promise<{ token: string; expiresAt: number }> {
  const { row } = params.user;
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAt = issuedAt + ctx.config.jwtExpiry;
  const amr = await amrOf(client, params.sessionId);
  let claims: Record<string, unknown> = {
    iss: ctx.config.issuer,
    sub: row.id,
    aud: row.aud ?? '',
    exp: expiresAt,
    iat: issuedAt,
    email: row.email ?? '',
    phone: row.phone ?? '',
    app_metadata: row.raw_app_meta_data ?? null,
    user_metadata: row.raw_user_meta_data ?? null,
    role: row.role ?? '',
    aal: 'aal1',
    ...(amr.length > 0 ? { amr } : {}),
    session_id: params.sessionId,
    is_anonymous: row.is_anonymous,
  };
  if (hook) {
    claims = await runAccessTokenHook(client, hook, {
      user_id: row.id,
      claims,
      authentication_method: params.method,
      ip: params.ip,
    });
  }
  return { token: await ctx.jwt.sign(claims), expiresAt };
}

/** AccessTokenResponse as GoTrue marshals it (PROTOCOL.md §3.2). */
export function tokenResponse(
  access: { token: string; expiresAt: number },
  refreshToken: string,
  user: User,
): Record<string, unknown> {
  return {
    access_token: access.token,
    token_type: 'bearer',
    expires_in: access.expiresAt - Math.floor(Date.now() / 1000),
    expires_at: access.expiresAt,
    refresh_token: refreshToken,
    user: toJson(user),
  };
}
