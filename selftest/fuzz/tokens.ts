/**
 * Tokens an attacker can make (never a valid one but the public anon key), and how the stack must
 * refuse them. Part of the fuzz suite; settings.ts says how to replay a run.
 */
import { createHmac, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Target } from './child-stack.ts';
import { hostileString, renderTree, type Tree } from './frames.ts';

export type TokenRecipe =
  | { t: 'anon' }
  | { t: 'publishable' }
  | { t: 'junk'; s: string }
  | { t: 'opaque'; s: string }
  /** HS256 with the project's real secret but claims that must not pass (bad `exp`, no role). */
  | { t: 'signed'; claims: { [k: string]: Tree } }
  | { t: 'otherSecret'; claims: { [k: string]: Tree } }
  | { t: 'algNone'; claims: { [k: string]: Tree } }
  | { t: 'parts'; parts: string[] };

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

export function tokenText(r: TokenRecipe, target: Target): string {
  const claims = (c: { [k: string]: Tree }) => b64(renderTree(c));
  switch (r.t) {
    case 'anon':
      return target.anonKey;
    case 'publishable':
      return target.publishableKey;
    case 'junk':
      return r.s;
    case 'opaque':
      return r.s;
    case 'signed':
    case 'otherSecret': {
      const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${claims(r.claims)}`;
      const secret = r.t === 'signed' ? target.jwtSecret : 'not-the-project-secret-not-the-project-secret';
      return `${input}.${createHmac('sha256', Buffer.from(secret, 'utf8')).update(input).digest('base64url')}`;
    }
    case 'algNone':
      return `${b64('{"alg":"none","typ":"JWT"}')}.${claims(r.claims)}.`;
    case 'parts':
      return r.parts.join('.');
  }
}

/** Whether the stack must accept this token as a key: only the public anon key and its sb_ alias. */
export function tokenIsValid(r: TokenRecipe): boolean {
  return r.t === 'anon' || r.t === 'publishable';
}

/** `exp` values no verifier may accept: not numbers, or long past. */
const badExp = fc.constantFrom<Tree>(
  '9999999999',
  '4102444800',
  '1e10',
  'x',
  '',
  null,
  true,
  [],
  {},
  -1,
  0,
  1,
);

const claimsArb: fc.Arbitrary<{ [k: string]: Tree }> = fc.record(
  {
    role: fc.constantFrom<Tree>(
      'anon',
      'authenticated',
      'service_role',
      'postgres',
      'supabase_admin',
      5,
      null,
      '',
    ),
    exp: badExp,
    sub: fc.oneof(fc.constant<Tree>(randomUUID()), hostileString),
    aud: fc.constantFrom<Tree>('authenticated', ['authenticated'], 5),
    session_id: hostileString,
  },
  { requiredKeys: ['exp'], noNullPrototype: true },
);

/** The token issue 22 names: correctly signed, `exp` a string. */
export const STRING_EXP_TOKEN: TokenRecipe = {
  t: 'signed',
  claims: {
    role: 'authenticated',
    exp: '9999999999',
    sub: '00000000-0000-0000-0000-000000000000',
    aud: 'authenticated',
  },
};

export const hostileToken: fc.Arbitrary<TokenRecipe> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<TokenRecipe>({ t: 'anon' }) },
  { weight: 1, arbitrary: fc.constant<TokenRecipe>({ t: 'publishable' }) },
  { weight: 2, arbitrary: hostileString.map((s): TokenRecipe => ({ t: 'junk', s })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('sb_publishable_', 'sb_secret_', 'sb_'), hostileString)
      .map(([p, s]): TokenRecipe => ({ t: 'opaque', s: p + s })),
  },
  { weight: 3, arbitrary: claimsArb.map((claims): TokenRecipe => ({ t: 'signed', claims })) },
  {
    weight: 1,
    arbitrary: claimsArb.map(
      (claims): TokenRecipe => ({ t: 'otherSecret', claims: { ...claims, exp: 9999999999 } }),
    ),
  },
  {
    weight: 1,
    arbitrary: claimsArb.map(
      (claims): TokenRecipe => ({ t: 'algNone', claims: { ...claims, exp: 9999999999 } }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.oneof(hostileString, fc.constantFrom('eyJ', 'e30', '')), { maxLength: 5 })
      .map((parts): TokenRecipe => ({ t: 'parts', parts })),
  },
  { weight: 1, arbitrary: fc.constant(STRING_EXP_TOKEN) },
);

/**
 * How a token must be refused, where that is certain from its recipe: a token signed with the
 * project's secret whose `exp` is not a number is refused as missing role/exp (hosted's claims
 * check), never as malformed. Undefined for tokens whose refusal this suite does not pin down.
 */
export function certainRefusal(r: TokenRecipe): { upgrade: string; join: string } | undefined {
  if (r.t !== 'signed' || typeof r.claims['exp'] === 'number') return undefined;
  return {
    upgrade: 'Fields `role` and `exp` are required in JWT',
    join: 'InvalidJWTToken: Fields `role` and `exp` are required in JWT',
  };
}

/** The JWT refusal codes a join reply's reason starts with (PROTOCOL.md §2.12). */
export const JWT_REASON = /^(MalformedJWT|InvalidJWTToken|JwtSignatureError|JwtSignerError): /;

/**
 * A join reply against the `access_token` the join carried: a token that is neither the anon key
 * nor an `sb_` key (which joins ignore for the socket's key) must never be accepted, and one whose
 * refusal is certain must be refused in exactly those words. Returns the problem, if any.
 */
export function judgeJoinReply(token: TokenRecipe, text: string, payload: unknown): string | undefined {
  const reply = payload as { status?: unknown; response?: { reason?: unknown } } | undefined;
  const usable = token.t === 'anon' || token.t === 'publishable' || text.startsWith('sb_');
  if (reply?.status === 'ok' && !usable) {
    return `a join with access_token ${fc.stringify(token).slice(0, 200)} was accepted`;
  }
  const reason = reply?.response?.reason;
  const refusal = certainRefusal(token);
  if (reply?.status === 'error' && refusal && typeof reason === 'string' && JWT_REASON.test(reason)) {
    if (reason !== refusal.join)
      return `a join with ${fc.stringify(token)} was refused as ${JSON.stringify(reason)}, not ${JSON.stringify(refusal.join)}`;
  }
  return undefined;
}
