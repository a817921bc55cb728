import type { IncomingMessage } from 'node:http';
import type { ProjectContext } from '../context.ts';
import { type Claims, JwtError, type JwtProblem } from '../jwt.ts';
import { describeKey, fingerprint, isOpaqueKey, mapApiKey } from '../keys.ts';

/**
 * How the hosted realtime server words token problems, in its three places: the refused upgrade
 * (`user_socket.ex handle_error`), the refused join (`realtime_channel.ex join/3` + `logging.ex`) and
 * the channel shutdown after an `access_token` push or at expiry (`shutdown_response`). The
 * classification itself is stack/jwt.ts's; this module only maps it to those exact strings.
 */

// Realtime verifies HS* with the tenant secret; any other alg finds no signer (no JWKS here), so
// `generate_signer` fails with `:error_generating_signer` — this is also what `alg: none` gets.
const SIGNER_MESSAGE = 'Failed to generate JWT signer, check your JWT secret or JWKS configuration';
const MALFORMED_MESSAGE = 'The token provided is not a valid JWT';
const MISSING_CLAIMS_MESSAGE = 'Fields `role` and `exp` are required in JWT';

export type UpgradeAuth =
  | { ok: true; token: string; claims: Claims }
  | { ok: false; status: number; body: { error: string }; why: string };

/**
 * The connect check (PROTOCOL.md §2.1): the key comes from `x-api-key` if present, else the `apikey`
 * query param; opaque `sb_…` keys are mapped as Kong does; the JWT must verify and carry role+exp.
 */
export async function authorizeUpgrade(
  ctx: ProjectContext,
  req: IncomingMessage,
  url: URL,
): Promise<UpgradeAuth> {
  const header = req.headers['x-api-key'];
  const raw = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('apikey') ?? undefined;
  if (raw === undefined) {
    return { ok: false, status: 401, body: { error: 'API key is missing' }, why: 'no apikey param' };
  }
  const token = mapApiKey(ctx.keys, raw);
  try {
    const claims = await ctx.jwt.verify(token);
    return { ok: true, token, claims };
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    return {
      ok: false,
      status: 401,
      body: { error: upgradeMessage(error.problem) },
      why: `${describeKey(ctx.keys, raw)}: ${error.message}`,
    };
  }
}

function upgradeMessage(p: JwtProblem): string {
  switch (p.kind) {
    case 'malformed':
      return MALFORMED_MESSAGE;
    case 'signature':
      return 'Failed to validate JWT signature';
    case 'expired':
      return 'Token has expired';
    case 'missing_claims':
      return MISSING_CLAIMS_MESSAGE;
    case 'unsupported_alg':
      return SIGNER_MESSAGE;
  }
}

/** The `reason` of a refused `phx_join` (PROTOCOL.md §2.12): `<Code>: <message>`. */
export function joinErrorReason(p: JwtProblem): string {
  switch (p.kind) {
    case 'malformed':
      return `MalformedJWT: ${MALFORMED_MESSAGE}`;
    case 'signature':
      return 'JwtSignatureError: Failed to validate JWT signature';
    case 'expired':
      return `InvalidJWTToken: ${expiredMessage(p.secondsAgo)}`;
    case 'missing_claims':
      return `InvalidJWTToken: ${MISSING_CLAIMS_MESSAGE}`;
    case 'unsupported_alg':
      return `JwtSignerError: ${SIGNER_MESSAGE}`;
  }
}

/**
 * The `system` shutdown message when a channel's token goes bad after the join. Expiry and missing
 * claims have prose; the other errors reach the client as Elixir's `inspect` of the error atom.
 */
export function shutdownMessage(p: JwtProblem): string {
  switch (p.kind) {
    case 'malformed':
      return MALFORMED_MESSAGE;
    case 'signature':
      return ':signature_error';
    case 'expired':
      return expiredMessage(p.secondsAgo);
    case 'missing_claims':
      return MISSING_CLAIMS_MESSAGE;
    case 'unsupported_alg':
      return ':error_generating_signer';
  }
}

function expiredMessage(secondsAgo: number): string {
  return `Token has expired ${secondsAgo} seconds ago`;
}

/**
 * The token a join authenticates with (`assign_access_token`): its `access_token` (or legacy
 * `user_token`) if that is a string and not an opaque `sb_…` key, otherwise the socket's apikey JWT.
 */
export function joinToken(payload: Record<string, unknown>, socketToken: string): string {
  const given = payload['access_token'] ?? payload['user_token'];
  if (typeof given === 'string' && !given.startsWith('sb_')) return given;
  return socketToken;
}

/** For logs: which identity a token carries, never the token. */
export function describeToken(token: string, claims?: Claims): string {
  if (isOpaqueKey(token)) return `opaque key ${fingerprint(token)}`;
  return `${claims?.role ?? 'unverified'} token ${fingerprint(token)}`;
}
