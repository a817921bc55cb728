import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AuthError, internal } from './errors.ts';

/** A custom access token hook living in Postgres (`pg-functions://postgres/<schema>/<fn>`). */
export interface AccessTokenHook {
  uri: string;
  /** `"schema"."fn"`, quoted as GoTrue's PopulateExtensibilityPoint does. */
  functionName: string;
}

/** GoTrue's hookspgfunc default: the hook shares the token transaction and gets 2 s. */
const HOOK_TIMEOUT_MS = 2000;

export function parseHookUri(uri: string): AccessTokenHook {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (cause) {
    throw new Error(
      `Access token hook "${uri}" is not a URI; expected pg-functions://postgres/<schema>/<fn>`,
      {
        cause,
      },
    );
  }
  const [, schema, fn, ...rest] = url.pathname.split('/');
  if (url.protocol !== 'pg-functions:' || !schema || !fn || rest.length > 0) {
    throw new Error(
      `Access token hook "${uri}" is not supported: only Postgres function hooks of the form ` +
        'pg-functions://postgres/<schema>/<fn> are (set accessTokenHook in the project config).',
    );
  }
  const quote = (name: string) => `"${decodeURIComponent(name).replace(/"/g, '""')}"`;
  return { uri, functionName: `${quote(schema)}.${quote(fn)}` };
}

/**
 * Call the hook inside the caller's transaction as GoTrue's own database role, with GoTrue's input
 * (PROTOCOL.md §3.10), and return the claims it answers with, validated as GoTrue validates them.
 * The hook's `{error:{http_code,message}}` becomes that HTTP error; a hook that fails in Postgres
 * aborts the transaction and is a 500 naming the hook.
 */
export async function runAccessTokenHook(
  client: pg.PoolClient,
  hook: AccessTokenHook,
  input: { user_id: string; claims: Record<string, unknown>; authentication_method: string; ip?: string },
): Promise<Record<string, unknown>> {
  const payload = {
    metadata: {
      uuid: randomUUID(),
      time: new Date().toISOString(),
      name: 'customize-access-token',
      ...(input.ip ? { ip_address: input.ip } : {}),
    },
    user_id: input.user_id,
    claims: input.claims,
    authentication_method: input.authentication_method,
  };
  let output: unknown;
  try {
    // GoTrue connects as supabase_auth_admin with search_path=auth; the hook sees exactly that.
    await client.query('set local role supabase_auth_admin');
    await client.query(`set local search_path to auth`);
    await client.query(`set local statement_timeout to '${HOOK_TIMEOUT_MS}'`);
    const result = await client.query<{ output: unknown }>(`select ${hook.functionName}($1) as output`, [
      JSON.stringify(payload),
    ]);
    output = result.rows[0]?.output ?? null;
    await client.query('reset role');
    await client.query('set local statement_timeout to default');
    await client.query('set local search_path to default');
  } catch (cause) {
    // The wire answer is GoTrue's; the cause (logged) says what Postgres refused and what to check.
    const detail = new Error(
      `Postgres failed ${hook.functionName}(jsonb) as supabase_auth_admin: ${(cause as Error).message}. ` +
        'Check that the function exists with a single jsonb argument and that a migration grants execute on it ' +
        'to supabase_auth_admin (and usage on its schema and whatever it reads).',
      { cause },
    );
    throw internal(`Error running hook URI: ${hook.uri}`, detail);
  }
  if (typeof output === 'string') {
    // A hook declared `returns json`/`text` arrives as text.
    try {
      output = JSON.parse(output);
    } catch (cause) {
      throw internal('Error unmarshaling JSON output.', cause);
    }
  }
  const hookError = errorOf(output);
  if (hookError) throw hookError;
  if (output === null || typeof output !== 'object' || Array.isArray(output) || !('claims' in output)) {
    throw new AuthError(500, undefined, 'output claims field is missing');
  }
  const claims = (output as { claims: unknown }).claims;
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw internal('Error unmarshaling JSON output.');
  }
  const problems = claimProblems(claims as Record<string, unknown>);
  if (problems.length > 0) {
    const list = problems.map((p) => `- ${p}\n`).join('');
    throw new AuthError(500, undefined, `output claims do not conform to the expected schema: \n${list}`);
  }
  return claims as Record<string, unknown>;
}

/** hookserrors.Check: `{error:{message}}` with a non-empty message is an error, default status 500. */
function errorOf(output: unknown): AuthError | undefined {
  if (output === null || typeof output !== 'object' || !('error' in output)) return undefined;
  const e = (output as { error: unknown }).error;
  if (e === null || typeof e !== 'object') return undefined;
  const { http_code: code, message } = e as { http_code?: unknown; message?: unknown };
  if (typeof message !== 'string' || message === '') return undefined;
  const status = typeof code === 'number' && Number.isInteger(code) && code !== 0 ? code : 500;
  return new AuthError(status, undefined, message);
}

const REQUIRED = ['aud', 'exp', 'iat', 'sub', 'email', 'phone', 'role', 'aal', 'session_id', 'is_anonymous'];
type JsonType = 'string' | 'integer' | 'array' | 'object';
const TYPES: Record<string, JsonType[]> = {
  aud: ['string', 'array'],
  exp: ['integer'],
  jti: ['string'],
  iat: ['integer'],
  iss: ['string'],
  nbf: ['integer'],
  sub: ['string'],
  email: ['string'],
  phone: ['string'],
  app_metadata: ['object'],
  user_metadata: ['object'],
  role: ['string'],
  aal: ['string'],
  amr: ['array'],
  session_id: ['string'],
  client_id: ['string'],
};

/** GoTrue's MinimumViableTokenSchema (tokens/service.go), with gojsonschema's wording. */
function claimProblems(claims: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const name of REQUIRED) {
    if (!(name in claims)) problems.push(`(root): ${name} is required`);
  }
  for (const [name, expected] of Object.entries(TYPES)) {
    if (!(name in claims)) continue;
    const actual = jsonType(claims[name]);
    if (!(expected as string[]).includes(actual))
      problems.push(
        `${name}: Invalid type. Expected: ${expected.length === 1 ? expected[0] : `[${expected.join(',')}]`}, given: ${actual}`,
      );
  }
  return problems;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
