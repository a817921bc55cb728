import fc from 'fast-check';
import { describe } from 'vitest';
import type { Target } from './child-stack.ts';
import { Deep, hostileString, Long, renderTree, type Tree, tree } from './frames.ts';
import { FuzzEnv } from './harness.ts';
import { answerTo, describeRequest, type RawRequest } from './raw-http.ts';
import { batchesOf, itEndsWhole, itFuzzes, itPassesKnown, Tally, useStack } from './suite.ts';
import { hostileToken, STRING_EXP_TOKEN, type TokenRecipe, tokenText } from './tokens.ts';
import { encodeAny } from './well-formed.ts';

/**
 * Issue 22 over HTTP: REST (`/rest/v1/…`) and Auth (`/auth/v1/…`) requests with random methods,
 * paths, query strings (filters, selects, logic trees nested absurdly deep), headers (Prefer, Range,
 * Accept, profiles, keys that are junk or signed with bad claims) and bodies (malformed JSON, deep,
 * huge, not UTF-8), written on raw connections. Every request must get a well-formed answer or a
 * close within the cap; none may succeed (2xx) without a valid key, nor reach an admin or user
 * endpoint with only the anon key; afterwards the stack answers and the control client still gets
 * its changes. 5xx answers are allowed by the invariants but noted at the end of the file.
 */
const env = new FuzzEnv();
/** Statuses seen per service: a fuzz run that only ever hits 401 explores nothing. */
const statuses = new Tally('HTTP answers');
useStack(env, { tallies: [statuses] });

type BodyRecipe =
  | { json: Tree }
  | { text: string }
  | { bytes: Uint8Array }
  /** A valid JSON array of `rows` todo-shaped objects (megabytes from a short recipe). */
  | { rows: number }
  /** `n` bytes of `x`: past the 10 MB body limit when n is large. */
  | { blob: number };

interface HttpRecipe {
  service: 'rest' | 'auth';
  method: string;
  path: string;
  query: [string, string][];
  apikey: { via: 'header' | 'query' | 'none'; token: TokenRecipe };
  authorization: { scheme: string; token: TokenRecipe } | null;
  headers: [string, string][];
  body: BodyRecipe | null;
  keepAlive: boolean;
}

const REST_PATHS = [
  'todos',
  'todos',
  'tickets',
  'ticket_activities',
  'attachments',
  'rpc/custom_access_token_hook',
  'rpc/nope',
  '',
  'todos/1',
  'Todos',
  '%22todos%22',
  'todos;drop',
  '%zz',
  'pg_catalog.pg_class',
  'rpc/',
  '..%2Fauth%2Fv1%2Fadmin%2Fusers',
] as const;

const AUTH_PATHS = [
  'token?grant_type=password',
  'token?grant_type=refresh_token',
  'token?grant_type=pkce',
  'token?grant_type=%00',
  'token',
  'user',
  'logout',
  'logout?scope=global',
  'settings',
  'health',
  'signup',
  'admin/users',
  'admin/users?page=-1&per_page=1e9',
  'admin/users/00000000-0000-0000-0000-000000000000',
  'admin/users/%zz',
  '.well-known/jwks.json',
  'verify',
  'otp',
  'recover',
  'authorize?provider=x',
  '',
  '%2e%2e/%2e%2e/rest/v1/todos',
] as const;

/** PostgREST query values: filters, logic trees, selects, orders, as clients and attackers write them. */
const restValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'eq.1',
      'neq.x',
      'in.(1,2,3)',
      'in.("a,b",c)',
      'in.()',
      'like.*\\',
      'ilike.%25\\',
      'is.null',
      'is.unknown',
      'cs.{a,b}',
      'cd.{}',
      'fts.x',
      'plfts(english).x',
      'not.eq.1',
      'gt.9999999999999999999999',
      'eq.',
      '*',
      '*,user:users(*)',
      'id,task::text',
      'task->>x',
      'id.desc.nullsfirst',
      'task.asc,id',
      '(a.eq.1,b.eq.2)',
      '(and(a.eq.1,or(b.eq.2,c.eq.3)))',
      '-1',
      '1e400',
      'exact',
    ),
  },
  { weight: 2, arbitrary: hostileString.map((s) => encodeAny(s)) },
  { weight: 1, arbitrary: hostileString },
  {
    weight: 1,
    // Logic trees and embeds nested far past what a parser that recurses can take.
    arbitrary: fc
      // Kept under Node's 16 KB header limit (a longer URL is refused with 431 before any parsing).
      .tuple(fc.constantFrom('(', 'or(', 'not.and(', 'a(', 'x:a('), fc.constantFrom(50, 500, 1500, 5000))
      .map(([open, n]) => {
        const levels = Math.min(n, Math.floor(12_000 / (open.length + 1)));
        return `${open.repeat(levels)}a.eq.1${')'.repeat(levels)}`;
      }),
  },
);

const restKey = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'select',
      'order',
      'limit',
      'offset',
      'on_conflict',
      'columns',
      'or',
      'and',
      'not.or',
      'id',
      'task',
      'user_id',
      'is_complete',
      'count',
    ),
  },
  { weight: 1, arbitrary: hostileString.map((s) => encodeAny(s)) },
);

const headerArb: fc.Arbitrary<[string, string]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.constantFrom(
        'Prefer',
        'Range',
        'Accept',
        'Content-Type',
        'Accept-Profile',
        'Content-Profile',
        'Range-Unit',
        'X-Client-Info',
        'Origin',
      ),
      fc.constantFrom(
        'return=representation',
        'return=minimal,count=exact',
        'count=planned',
        'resolution=merge-duplicates',
        'tx=rollback',
        'missing=default',
        'handling=strict, max-affected=1',
        '0-9',
        '5-1',
        '-3',
        '0-999999999999999999',
        'items',
        'application/json',
        'application/vnd.pgrst.object+json',
        'application/vnd.pgrst.plan+json',
        'text/csv',
        '*/*',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        'application/octet-stream',
        'public',
        'auth',
        'realtime',
        'pg_catalog',
        '',
        'https://evil.example',
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('Prefer', 'Accept', 'Content-Type', 'Range'), hostileString),
  },
);

const bodyArb: fc.Arbitrary<BodyRecipe> = fc.oneof(
  { weight: 5, arbitrary: tree.map((json): BodyRecipe => ({ json })) },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          email: fc.oneof(fc.constantFrom<Tree>('a@example.test', ''), hostileString, tree),
          password: fc.oneof(hostileString, tree),
          refresh_token: fc.oneof(hostileString, tree),
          task: fc.oneof(hostileString, tree),
          user_id: fc.oneof(fc.constantFrom<Tree>('00000000-0000-0000-0000-000000000000'), tree),
        },
        { requiredKeys: [], noNullPrototype: true },
      )
      .map((o): BodyRecipe => ({ json: o as Tree })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('{', '[1,', '{"a":}', 'nul', '\u0000', '{"a":1}{"b":2}', '"unterminated', '[]]', '')
      .map((text): BodyRecipe => ({ text })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): BodyRecipe => ({ bytes })) },
  { weight: 1, arbitrary: fc.constantFrom<BodyRecipe>({ rows: 20_000 }, { blob: 10 * 1024 * 1024 + 1 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(1000, 6000, 100_000)
      .map((n): BodyRecipe => ({ json: { task: new Deep(n, 'array'), user_id: new Deep(n, 'object') } })),
  },
);

const validKeyArb = fc.constantFrom<TokenRecipe>({ t: 'anon' }, { t: 'anon' }, { t: 'publishable' });

const recipe: fc.Arbitrary<HttpRecipe> = fc.constantFrom('rest' as const, 'auth' as const).chain((service) =>
  fc.record(
    {
      service: fc.constant(service),
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS') },
        { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'get', 'FOO', 'CONNECT') },
      ),
      path: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom<string>(...(service === 'rest' ? REST_PATHS : AUTH_PATHS)) },
        { weight: 1, arbitrary: hostileString.map((s) => encodeAny(s)) },
      ),
      query: fc.array(fc.tuple(restKey, restValue), { maxLength: 4 }),
      // Mostly the anon key, so requests get past the gateway into REST's and Auth's own parsing.
      apikey: fc.record(
        {
          via: fc.constantFrom(
            'header' as const,
            'header' as const,
            'header' as const,
            'query' as const,
            'none' as const,
          ),
          token: fc.oneof({ weight: 3, arbitrary: validKeyArb }, { weight: 1, arbitrary: hostileToken }),
        },
        { noNullPrototype: true },
      ),
      authorization: fc.oneof(
        { weight: 5, arbitrary: fc.constant(null) },
        { weight: 2, arbitrary: fc.constant({ scheme: 'Bearer', token: { t: 'anon' } as TokenRecipe }) },
        {
          weight: 2,
          arbitrary: fc.record(
            {
              scheme: fc.constantFrom('Bearer', 'Bearer', 'bearer', 'Basic', 'Bearer  ', ''),
              token: hostileToken,
            },
            { noNullPrototype: true },
          ),
        },
      ),
      headers: fc.array(headerArb, { maxLength: 4 }),
      body: fc.option(bodyArb, { nil: null }),
      keepAlive: fc.boolean(),
    },
    { noNullPrototype: true },
  ),
);

/** CR and LF would end the head early and leave the server waiting for a body no one sends. */
const headerSafe = (s: string) => s.replace(/[\r\n]/g, ' ');

function bodyBytes(b: BodyRecipe): Buffer {
  if ('json' in b) return Buffer.from(renderTree(b.json));
  if ('text' in b) return Buffer.from(b.text);
  if ('bytes' in b) return Buffer.from(b.bytes);
  if ('rows' in b) {
    const row = renderTree({ task: new Long(40, 'é'), is_complete: false });
    return Buffer.from(`[${Array.from({ length: b.rows }, () => row).join(',')}]`);
  }
  return Buffer.alloc(b.blob, 'x');
}

interface Built {
  req: RawRequest;
  /** Whether the stack may answer 2xx at all (a valid key, an open endpoint). */
  may2xx: boolean;
  why: string;
}

function build(r: HttpRecipe, target: Target): Built {
  const prefix = r.service === 'rest' ? '/rest/v1/' : '/auth/v1/';
  const key = tokenText(r.apikey.token, target);
  const query = r.query.map(([k, v]) => `${k}=${v}`);
  if (r.apikey.via === 'query') query.push(`apikey=${encodeAny(key)}`);
  const path = `${prefix}${r.path}`;
  const targetText = query.length ? `${path}${path.includes('?') ? '&' : '?'}${query.join('&')}` : path;
  const headers: [string, string][] = [['Host', `127.0.0.1:${target.port}`]];
  if (r.apikey.via === 'header') headers.push(['apikey', headerSafe(key)]);
  const bearer = r.authorization ? headerSafe(tokenText(r.authorization.token, target)) : undefined;
  if (r.authorization) headers.push(['Authorization', `${r.authorization.scheme} ${bearer}`]);
  for (const [n, v] of r.headers) headers.push([n, headerSafe(v)]);
  if (!r.keepAlive) headers.push(['Connection', 'close']);
  let body: Buffer | undefined;
  if (r.body) {
    body = bodyBytes(r.body);
    if (!r.headers.some(([n]) => n === 'Content-Type')) headers.push(['Content-Type', 'application/json']);
    headers.push(['Content-Length', String(body.length)]);
  }
  const req: RawRequest = {
    method: r.method,
    target: targetText,
    version: 'HTTP/1.1',
    headers,
    ...(body ? { body } : {}),
  };
  return { req, ...mayAnswer2xx(r, targetText, bearer) };
}

const OPEN_AUTH = new Set(['health', 'health/', 'settings', 'settings/', '.well-known/jwks.json']);

/** The gateway's and services' key rules (stack/http/gateway.ts, rest/auth.ts, auth/index.ts). */
function mayAnswer2xx(
  r: HttpRecipe,
  targetText: string,
  bearer: string | undefined,
): { may2xx: boolean; why: string } {
  if (r.method === 'OPTIONS') return { may2xx: true, why: 'CORS preflight' };
  let url: URL;
  try {
    url = new URL(targetText, 'http://localhost');
  } catch {
    return { may2xx: true, why: 'not a URL (the server decides)' };
  }
  const sub = url.pathname.slice(r.service === 'rest' ? '/rest/v1/'.length : '/auth/v1/'.length);
  if (r.service === 'auth') {
    if (!url.pathname.startsWith('/auth/v1')) return { may2xx: true, why: 'outside /auth/v1' };
    if (OPEN_AUTH.has(sub)) return { may2xx: true, why: 'open or anon endpoint' };
    if (sub.startsWith('admin')) return { may2xx: false, why: 'an admin endpoint without the service role' };
    if (/^(user|logout)\/?$/.test(sub))
      return { may2xx: false, why: 'a user endpoint without a user session' };
    return { may2xx: true, why: 'other auth endpoints decide for themselves' };
  }
  if (!url.pathname.startsWith('/rest/v1')) return { may2xx: true, why: 'outside /rest/v1' };
  const apikeyPresent =
    r.apikey.via === 'header' || (r.apikey.via === 'query' && url.searchParams.get('apikey') !== null);
  if (!apikeyPresent) return { may2xx: false, why: 'no apikey' };
  const matched = r.authorization ? /^Bearer\s+(.*)$/i.exec(`${r.authorization.scheme} ${bearer}`) : null;
  const token = matched ? (matched[1] ?? '').trim() : '';
  const opaque = token.startsWith('sb_publishable_') || token.startsWith('sb_secret_');
  const valid = token && !opaque ? r.authorization?.token.t === 'anon' : validKey(r.apikey.token);
  return valid
    ? { may2xx: true, why: '' }
    : { may2xx: false, why: 'neither the bearer nor the apikey is a valid key' };
}

function validKey(t: TokenRecipe): boolean {
  return t.t === 'anon' || t.t === 'publishable';
}

async function exchange(r: HttpRecipe): Promise<void> {
  const { req, may2xx, why } = build(r, env.target);
  const answer = await answerTo(env.target.port, req, () => env.log.tail(8));
  const { status } = answer;
  statuses.count(`${r.service} ${status === undefined ? 'closed' : status}`);
  if (status !== undefined && status >= 200 && status < 300 && !may2xx) {
    throw new Error(
      `${status} to a request the stack must refuse (${why}):\n${describeRequest(req)}\n${answer.body.toString().slice(0, 300)}`,
    );
  }
  if (status !== undefined && status >= 500) {
    env.note(
      `${status} from ${r.service} ${req.method} /${r.path.split('?')[0]}`,
      `${answer.body.toString().slice(0, 160)} — for ${describeRequest(req).split('\n')[0]?.slice(0, 200)}`,
    );
  }
}

/** Issue 22's shape for HTTP: a correctly signed token whose `exp` is a string, as key and as bearer. */
const KNOWN: HttpRecipe[] = (['rest', 'auth'] as const).flatMap((service) =>
  [
    { via: 'header' as const, auth: null },
    { via: 'header' as const, auth: { scheme: 'Bearer', token: STRING_EXP_TOKEN } },
    { via: 'query' as const, auth: null },
  ].map(
    ({ via, auth }): HttpRecipe => ({
      service,
      method: 'GET',
      path: service === 'rest' ? 'todos' : 'user',
      query: [],
      apikey: { via, token: auth ? { t: 'anon' } : STRING_EXP_TOKEN },
      authorization: auth,
      headers: [],
      body: null,
      keepAlive: false,
    }),
  ),
);

const requests = batchesOf('http requests', recipe, exchange, { runs: 80, perRunMs: 150 });

describe('REST and Auth requests on raw connections', () => {
  itPassesKnown(env, "issue 22's requests are refused, and the stack stays whole", KNOWN, exchange);
  itFuzzes(env, 'any request gets an answer or a close; nothing succeeds without a key', requests);
});

itEndsWhole(env);
