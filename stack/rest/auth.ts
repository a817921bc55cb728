import type { IncomingMessage } from 'node:http';
import type { ProjectContext } from '../context.ts';
import { gatewayCredentials } from '../http/gateway.ts';
import { type Claims, JwtError, type JwtProblem } from '../jwt.ts';
import { describeKey } from '../keys.ts';
import { pgrstError } from './errors.ts';

// PostgREST tolerates 30 s of clock skew on exp/nbf/iat (`Auth/Jwt.hs` allowedSkewSeconds).
const ALLOWED_SKEW_MS = 30_000;

export interface RestIdentity {
  claims: Claims;
  role: string;
  /** PostgREST's `authed`: the role differs from the anon role (decides 401 vs 403 on 42501). */
  authed: boolean;
}

export const ANON_ROLE = 'anon';

/**
 * Who is calling: the gateway's token, verified with the project's secret. Refusals are PostgREST's
 * own 401s (PGRST301 decode/signature/algorithm, PGRST303 claims) with the `WWW-Authenticate` header
 * it sends, so supabase-js sees exactly what the hosted API returns.
 */
export async function authenticate(
  req: IncomingMessage,
  url: URL,
  ctx: ProjectContext,
): Promise<RestIdentity> {
  const { token } = gatewayCredentials(req, url, ctx.keys);
  if (token === '') throw jwtRefusal('PGRST301', 'Empty JWT is sent in Authorization header');
  let claims: Claims;
  try {
    claims = await ctx.jwt.verify(token, Date.now() - ALLOWED_SKEW_MS);
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    ctx.log.debug('rest: token refused', { token: describeKey(ctx.keys, token), problem: error.message });
    throw refusalFor(error.problem, error);
  }
  const role = claims.role;
  return { claims, role, authed: role !== ANON_ROLE };
}

function refusalFor(problem: JwtProblem, cause: JwtError) {
  switch (problem.kind) {
    case 'malformed':
      // jwt.ts words the part count exactly as PostgREST does; other decode failures have no
      // PostgREST-specific text, so they get its generic one.
      return jwtRefusal(
        'PGRST301',
        problem.detail.startsWith('Expected 3 parts') ? problem.detail : "JWT couldn't be decoded",
        cause,
      );
    case 'signature':
      return jwtRefusal('PGRST301', 'JWT cryptographic operation failed', cause);
    case 'unsupported_alg':
      return jwtRefusal('PGRST301', 'Wrong or unsupported encoding algorithm', cause);
    case 'expired':
      return jwtRefusal('PGRST303', 'JWT expired', cause);
    case 'missing_claims':
      // PostgREST would fall back to the anon role without `role` and accept a token without `exp`;
      // the shared verifier requires both (as Realtime does), so such a token is refused here.
      return jwtRefusal('PGRST303', 'Parsing claims failed', cause);
  }
}

function jwtRefusal(code: string, message: string, cause?: unknown) {
  const error = pgrstError(401, code, message, null, null, {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description=${JSON.stringify(message)}`,
  });
  if (cause !== undefined) error.cause = cause;
  return error;
}
