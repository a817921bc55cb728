import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';

/** Claims of a verified Supabase token. `role` and `exp` are guaranteed present. */
export interface Claims extends JWTPayload {
  role: string;
  exp: number;
  [claim: string]: unknown;
}

/**
 * Why a token was refused. Each service turns this into its own wire error (PostgREST PGRST30x,
 * GoTrue bad_jwt, Realtime reason strings), so the classification lives here once.
 */
export type JwtProblem =
  | { kind: 'malformed'; detail: string }
  | { kind: 'signature'; detail: string }
  | { kind: 'expired'; secondsAgo: number }
  | { kind: 'missing_claims'; detail: string }
  | { kind: 'unsupported_alg'; alg: string };

export class JwtError extends Error {
  constructor(readonly problem: JwtProblem) {
    super(describeProblem(problem));
    this.name = 'JwtError';
  }
}

function describeProblem(p: JwtProblem): string {
  switch (p.kind) {
    case 'malformed':
      return `malformed JWT: ${p.detail}`;
    case 'signature':
      return `JWT signature invalid: ${p.detail}`;
    case 'expired':
      return `JWT expired ${p.secondsAgo} seconds ago`;
    case 'missing_claims':
      return p.detail;
    case 'unsupported_alg':
      return `JWT algorithm ${p.alg} is not accepted`;
  }
}

const HS_ALGS = ['HS256', 'HS384', 'HS512'];

export class JwtKeys {
  private readonly key: Uint8Array;
  constructor(readonly secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(claims: Record<string, unknown>): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(this.key);
  }

  /**
   * Verify signature, `exp` and the presence of `role` and `exp` (Realtime and PostgREST both need
   * them). `alg: none` and any non-HMAC alg are refused before the signature is looked at.
   */
  async verify(token: string, now: number = Date.now()): Promise<Claims> {
    const parts = token.split('.');
    if (parts.length !== 3) {
      throw new JwtError({ kind: 'malformed', detail: `Expected 3 parts in JWT; got ${parts.length}` });
    }
    let alg: string;
    try {
      alg = String(decodeProtectedHeader(token).alg ?? '');
    } catch (cause) {
      throw new JwtError({ kind: 'malformed', detail: (cause as Error).message });
    }
    if (!HS_ALGS.includes(alg)) throw new JwtError({ kind: 'unsupported_alg', alg: alg || 'missing' });
    let payload: JWTPayload;
    try {
      // exp is checked below with our own clock so the "N seconds ago" is exact.
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: HS_ALGS,
        currentDate: new Date(0),
      }));
    } catch (cause) {
      if (cause instanceof errors.JWSSignatureVerificationFailed) {
        throw new JwtError({ kind: 'signature', detail: 'JWT cryptographic operation failed' });
      }
      // A signed token whose `exp` is not a number: hosted's claims check refuses it as missing
      // role/exp, not as a malformed token (jose reports it as a claim validation failure).
      if (cause instanceof errors.JWTClaimValidationFailed && cause.claim === 'exp') {
        throw new JwtError({ kind: 'missing_claims', detail: 'Fields `role` and `exp` are required in JWT' });
      }
      if (cause instanceof errors.JOSEError) {
        throw new JwtError({ kind: 'malformed', detail: cause.message });
      }
      throw cause;
    }
    if (typeof payload.exp !== 'number' || typeof payload['role'] !== 'string') {
      throw new JwtError({ kind: 'missing_claims', detail: 'Fields `role` and `exp` are required in JWT' });
    }
    const nowSeconds = Math.floor(now / 1000);
    if (payload.exp <= nowSeconds) {
      throw new JwtError({ kind: 'expired', secondsAgo: nowSeconds - payload.exp });
    }
    return payload as Claims;
  }
}
