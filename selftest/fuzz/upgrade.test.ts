import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Target } from './child-stack.ts';
import { hostileString } from './frames.ts';
import { FuzzEnv } from './harness.ts';
import { answerTo, describeRequest, type RawRequest, rawExchange, requestBytes } from './raw-http.ts';
import { batchesOf, itEndsWhole, itFuzzes, itPassesKnown, Tally, useStack } from './suite.ts';
import {
  certainRefusal,
  hostileToken,
  STRING_EXP_TOKEN,
  type TokenRecipe,
  tokenIsValid,
  tokenText,
} from './tokens.ts';
import { encodeAny } from './well-formed.ts';

/**
 * Issue 22 before the socket opens: upgrade requests written byte by byte on a raw TCP connection
 * to the API port — odd request targets (`//`, dot segments, absolute-form, encoded bytes), odd
 * versions and methods, missing or bad `Sec-WebSocket-Key` / `-Version`, huge and malformed headers,
 * keys that are junk or correctly signed with bad claims. Every request must get an HTTP answer or
 * a close of that connection (never silence), a 101 only for the socket path with the anon key and
 * a supported vsn, a signed key whose `exp` is not a number the hosted refusal's exact words, and
 * afterwards the stack answers and the control client still gets its changes.
 */
const env = new FuzzEnv();
/** Statuses seen: a fuzz run that only ever hits 400 explores nothing. */
const statuses = new Tally('upgrade answers');
useStack(env, { tallies: [statuses] });

/** `{host}` becomes 127.0.0.1:<port>. */
const PATHS = [
  '/realtime/v1/websocket',
  '/realtime/v1/websocket/',
  '//',
  '///',
  '//realtime/v1/websocket',
  '/realtime/v1/websocket/../x',
  '/realtime/v1/websocket/..',
  '/realtime/v1/../v1/websocket',
  '/realtime//v1/websocket',
  '/realtime/v1/websocket/%2e%2e/x',
  '/realtime/v1/%77ebsocket',
  '/realtime/v1/websocket%00',
  '/realtime/v1/websocket;x=1',
  '/REALTIME/v1/websocket',
  '/realtime/v1',
  '/realtime/v1/',
  '/realtime/v1/nope',
  '/realtime/v1/api/broadcast',
  '/rest/v1/todos',
  '/auth/v1/health',
  '/',
  '*',
  '/\\',
  '/realtime/v1/websocket#frag',
  '//@',
  '//[',
  '//:99999',
  '//%zz',
  'http://{host}/realtime/v1/websocket',
  'http://[::1]/realtime/v1/websocket',
  'http://a:b@{host}/realtime/v1/websocket',
  'http://%/x',
  'ws://localhost/realtime/v1/websocket',
  'https:realtime/v1/websocket',
  'http://',
  'mailto:x',
  '/realtime/v1/websocket?',
  '/realtime/v1/websocket?&&',
] as const;

type HeaderRecipe =
  | { name: string; value: string }
  | { name: string; long: number }
  | { many: number }
  | { raw: string };

interface UpgradeRecipe {
  method: string;
  path: string;
  key: {
    via: 'query' | 'header' | 'both' | 'none';
    token: TokenRecipe;
    header?: TokenRecipe;
    encode: boolean;
  };
  vsn: string | null;
  extraQuery: string;
  version: string;
  upgrade: string | null;
  connection: string | null;
  wsKey: string | null;
  wsVersion: string | null;
  host: string | null;
  extra: HeaderRecipe[];
  body: { cl: number } | 'chunked' | null;
}

/** CR and LF would end the head early and leave the server waiting for a body no one sends. */
const headerSafe = (s: string) => s.replace(/[\r\n]/g, ' ');

const headerRecipe: fc.Arbitrary<HeaderRecipe> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        name: fc.oneof(
          fc.constantFrom(
            'X-Forwarded-For',
            'Origin',
            'Sec-WebSocket-Protocol',
            'Sec-WebSocket-Extensions',
            'Cookie',
            'Authorization',
            'Expect',
            'Transfer-Encoding',
            'Content-Length',
            'X-Client-Info',
            'Accept',
          ),
          hostileString.map((s) => s.replace(/[:\r\n]/g, '')),
        ),
        value: hostileString.map(headerSafe),
      },
      { noNullPrototype: true },
    ),
  },
  // Values for the names above that the parser must refuse or ignore (never a valid length: the
  // server would then wait for a body).
  {
    weight: 2,
    arbitrary: fc.constantFrom<HeaderRecipe>(
      { name: 'Content-Length', value: 'abc' },
      { name: 'Content-Length', value: '-1' },
      { name: 'Content-Length', value: '1, 2' },
      { name: 'Transfer-Encoding', value: 'gzip' },
      { name: 'Expect', value: '100-continue' },
      { name: 'Sec-WebSocket-Extensions', value: 'permessage-deflate; client_max_window_bits=99' },
      { name: 'Sec-WebSocket-Protocol', value: ', , ,' },
      { name: 'Origin', value: 'null' },
      { name: 'Origin', value: 'https://evil.example' },
      { raw: 'X-Folded: a\r\n b' },
      { raw: 'No-Colon' },
      { raw: ': empty-name' },
      { raw: 'X\u0000Nul: 1' },
      { raw: 'X-Ütf8: 1' },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        name: fc.constantFrom('X-Big', 'Cookie', 'Sec-WebSocket-Key'),
        long: fc.constantFrom(200, 8_000, 17_000, 70_000),
      },
      { noNullPrototype: true },
    ),
  },
  { weight: 1, arbitrary: fc.record({ many: fc.constantFrom(50, 500, 2_100) }, { noNullPrototype: true }) },
);

const upgradeRecipe: fc.Arbitrary<UpgradeRecipe> = fc.record(
  {
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant('GET') },
      {
        weight: 2,
        arbitrary: fc.constantFrom('POST', 'HEAD', 'OPTIONS', 'CONNECT', 'get', 'PRI', 'G E T', ''),
      },
    ),
    path: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom<string>(...PATHS) },
      {
        weight: 2,
        arbitrary: fc
          .array(
            fc.oneof(
              hostileString,
              fc.constantFrom('..', '.', '', '%2F', '%', 'realtime', 'v1', 'websocket'),
            ),
            {
              maxLength: 5,
            },
          )
          .map((segments) => `/${segments.join('/')}`),
      },
    ),
    key: fc.record(
      {
        via: fc.constantFrom(
          'query' as const,
          'query' as const,
          'header' as const,
          'both' as const,
          'none' as const,
        ),
        token: hostileToken,
        header: hostileToken,
        encode: fc.boolean(),
      },
      { requiredKeys: ['via', 'token', 'encode'], noNullPrototype: true },
    ),
    vsn: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom<string | null>('2.0.0', '1.0.0') },
      {
        weight: 2,
        arbitrary: fc.constantFrom<string | null>(
          null,
          '3.0.0',
          '2.0',
          '',
          '2.0.0.0',
          '1.0.10',
          '%202.0.0',
          '2.0.0&vsn=1.0.0',
        ),
      },
      { weight: 1, arbitrary: hostileString.map((s) => encodeAny(s)) },
    ),
    extraQuery: fc.constantFrom('', '', '', 'apikey=', 'x=%zz', '&&&', `vsn=9.9.9`, 'a'.repeat(9000)),
    version: fc.oneof(
      { weight: 8, arbitrary: fc.constant('HTTP/1.1') },
      {
        weight: 2,
        arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'HTTP/1', 'http/1.1', ''),
      },
    ),
    upgrade: fc.constantFrom<string | null>(
      'websocket',
      'websocket',
      'WebSocket',
      null,
      'h2c',
      'websocket, foo',
      '',
    ),
    connection: fc.constantFrom<string | null>(
      'Upgrade',
      'Upgrade',
      'keep-alive, Upgrade',
      'close',
      null,
      'upgrade, close',
    ),
    wsKey: fc.constantFrom<string | null>(
      'dGhlIHNhbXBsZSBub25jZQ==',
      'dGhlIHNhbXBsZSBub25jZQ==',
      null,
      '',
      'not base64',
      'dGhlIHNhbXBsZQ==',
      'dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==',
      'é'.repeat(24),
    ),
    wsVersion: fc.constantFrom<string | null>('13', '13', '8', null, '', '14', 'abc', '13, 13', '-1'),
    host: fc.constantFrom<string | null>(
      '{host}',
      '{host}',
      null,
      '',
      'evil.example',
      '[::1]',
      'a'.repeat(300),
    ),
    extra: fc.array(headerRecipe, { maxLength: 3 }),
    body: fc.constantFrom<UpgradeRecipe['body']>(null, null, null, { cl: 0 }, { cl: 5 }, 'chunked'),
  },
  { noNullPrototype: true },
);

/** What the server must believe before it may answer 101 (stack/realtime/server.ts + auth.ts). */
interface Verdict {
  mayUpgrade: boolean;
  why: string;
}

function build(r: UpgradeRecipe, target: Target): { req: RawRequest; verdict: Verdict } {
  const host = `127.0.0.1:${target.port}`;
  const path = r.path.replaceAll('{host}', host);
  const queryToken = tokenText(r.key.token, target);
  const headerToken = tokenText(r.key.header ?? r.key.token, target);
  const query: string[] = [];
  if (r.key.via === 'query' || r.key.via === 'both') {
    query.push(`apikey=${r.key.encode ? encodeAny(queryToken) : queryToken}`);
  }
  if (r.vsn !== null) query.push(`vsn=${r.vsn}`);
  if (r.extraQuery) query.push(r.extraQuery);
  const targetText = query.length ? `${path}${path.includes('?') ? '&' : '?'}${query.join('&')}` : path;
  const headers: [string, string][] = [];
  const add = (name: string, value: string | null) => {
    if (value !== null) headers.push([name, value.replaceAll('{host}', host)]);
  };
  add('Host', r.host);
  add('Upgrade', r.upgrade);
  add('Connection', r.connection);
  add('Sec-WebSocket-Key', r.wsKey);
  add('Sec-WebSocket-Version', r.wsVersion);
  if (r.key.via === 'header' || r.key.via === 'both') add('x-api-key', headerSafe(headerToken));
  const raw: string[] = [];
  for (const h of r.extra) {
    if ('value' in h) headers.push([h.name, h.value]);
    else if ('long' in h) headers.push([h.name, 'a'.repeat(h.long)]);
    else if ('many' in h) for (let i = 0; i < h.many; i++) headers.push([`X-N${i}`, 'v']);
    else raw.push(h.raw);
  }
  let body: Buffer | undefined;
  if (r.body === 'chunked') {
    headers.push(['Transfer-Encoding', 'chunked']);
    body = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
  } else if (r.body) {
    headers.push(['Content-Length', String(r.body.cl)]);
    body = Buffer.alloc(r.body.cl, 'x');
  }
  // Raw header lines go in as written (after the others, so the request still ends properly).
  for (const line of raw) {
    const at = line.indexOf(':');
    headers.push(at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1).trimStart()]);
  }
  const req: RawRequest = {
    method: r.method,
    target: targetText,
    version: r.version,
    headers,
    ...(body ? { body } : {}),
  };
  return { req, verdict: verdict(r, targetText, headers) };
}

function verdict(r: UpgradeRecipe, targetText: string, headers: [string, string][]): Verdict {
  let url: URL;
  try {
    url = new URL(targetText, 'http://localhost');
  } catch {
    return { mayUpgrade: false, why: 'the target is not a URL' };
  }
  if (url.pathname !== '/realtime/v1/websocket' && url.pathname !== '/realtime/v1/websocket/') {
    return { mayUpgrade: false, why: `path ${url.pathname} is not the socket path` };
  }
  const vsn = url.searchParams.get('vsn') ?? '1.0.0';
  if (!/^[12]\.0\.\d+$/.test(vsn))
    return { mayUpgrade: false, why: `vsn ${JSON.stringify(vsn)} is unsupported` };
  // x-api-key wins over the query param (user_socket.ex); only the anon key and its sb_ alias pass.
  const header = headers.find(([n]) => n.toLowerCase() === 'x-api-key');
  if (header) {
    return r.key.header && tokenIsValid(r.key.header) && header[1] !== ''
      ? { mayUpgrade: true, why: '' }
      : { mayUpgrade: false, why: 'x-api-key is not a valid key' };
  }
  const apikey = url.searchParams.get('apikey');
  if (apikey === null) return { mayUpgrade: false, why: 'no apikey' };
  const valid = r.key.via !== 'none' && tokenIsValid(r.key.token);
  return valid ? { mayUpgrade: true, why: '' } : { mayUpgrade: false, why: 'apikey is not a valid key' };
}

/**
 * Whether the realtime upgrade handler, not some HTTP route, answers this request: a GET upgrade to
 * websocket on the socket path with a supported vsn (its key check comes next).
 */
function reachesKeyCheck(req: RawRequest): boolean {
  const header = (name: string) =>
    req.headers.find(([n]) => n.toLowerCase() === name)?.[1].toLowerCase() ?? '';
  let url: URL;
  try {
    url = new URL(req.target, 'http://localhost');
  } catch {
    return false;
  }
  return (
    req.method === 'GET' &&
    req.version === 'HTTP/1.1' &&
    header('upgrade') === 'websocket' &&
    header('connection').includes('upgrade') &&
    (url.pathname === '/realtime/v1/websocket' || url.pathname === '/realtime/v1/websocket/') &&
    /^[12]\.0\.\d+$/.test(url.searchParams.get('vsn') ?? '1.0.0')
  );
}

/**
 * The key the server checks: `x-api-key` when sent, else the `apikey` query param (auth.ts) — when
 * the target still has one: a `#` before the `?` makes the query part of the fragment, which no
 * server reads (the request is then refused as "API key is missing").
 */
function effectiveKey(
  r: UpgradeRecipe,
  req: { target: string; headers: [string, string][] },
): TokenRecipe | undefined {
  if (req.headers.some(([n]) => n.toLowerCase() === 'x-api-key')) return r.key.header ?? r.key.token;
  if (r.key.via !== 'query' && r.key.via !== 'both') return undefined;
  const hash = req.target.indexOf('#');
  const query = req.target.indexOf('?');
  return query >= 0 && (hash < 0 || query < hash) ? r.key.token : undefined;
}

async function exchange(r: UpgradeRecipe): Promise<void> {
  const { req, verdict: v } = build(r, env.target);
  const answer = await answerTo(env.target.port, req, () => env.log.tail(8));
  const { status } = answer;
  statuses.count(status === undefined ? 'closed' : String(status));
  if (status === 101 && !v.mayUpgrade) {
    throw new Error(`the server upgraded a request it must refuse (${v.why}):\n${describeRequest(req)}`);
  }
  // A 401 from the socket's key check: a key whose refusal is certain must get its exact wording.
  const key = effectiveKey(r, req);
  const refusal = key ? certainRefusal(key) : undefined;
  if (status === 401 && refusal && reachesKeyCheck(req)) {
    const body = answer.body.toString();
    const want = JSON.stringify({ error: refusal.upgrade });
    if (body !== want) {
      throw new Error(
        `the upgrade refusal of ${fc.stringify(key)} reads ${body}, not ${want}:\n${describeRequest(req)}`,
      );
    }
  }
  if (status !== undefined && status >= 500) {
    env.note(
      `${status} to an upgrade request`,
      `${answer.body.toString().slice(0, 120)} for ${req.method} ${req.target.slice(0, 80)}`,
    );
  }
}

/** The upgrade requests issue 22 names: `//` (new URL threw in the upgrade handler), a string `exp`. */
const wellFormed: UpgradeRecipe = {
  method: 'GET',
  path: '/realtime/v1/websocket',
  key: { via: 'query', token: { t: 'anon' }, encode: false },
  vsn: '2.0.0',
  extraQuery: '',
  version: 'HTTP/1.1',
  upgrade: 'websocket',
  connection: 'Upgrade',
  wsKey: 'dGhlIHNhbXBsZSBub25jZQ==',
  wsVersion: '13',
  host: '{host}',
  extra: [],
  body: null,
};
const KNOWN: UpgradeRecipe[] = [
  // A correctly signed key whose `exp` is a string: refused as missing role/exp, not as malformed.
  { ...wellFormed, key: { via: 'query', token: STRING_EXP_TOKEN, encode: false } },
  { ...wellFormed, key: { via: 'header', token: { t: 'anon' }, header: STRING_EXP_TOKEN, encode: false } },
  { ...wellFormed, path: '//' },
  { ...wellFormed, path: '//realtime/v1/websocket' },
  { ...wellFormed, path: '//', key: { via: 'none', token: { t: 'anon' }, encode: false } },
];

const requests = batchesOf('upgrade requests', upgradeRecipe, exchange, { runs: 120, perRunMs: 120 });

describe('upgrade requests on a raw connection', () => {
  it('a well-formed upgrade with the anon key opens (the harness itself works)', async () => {
    const { req } = build(wellFormed, env.target);
    const answer = await rawExchange(env.target.port, requestBytes(req), 'GET');
    expect(answer.status).toBe(101);
  });

  itPassesKnown(env, "issue 22's requests get an answer, and the stack stays whole", KNOWN, exchange);
  itFuzzes(env, 'any upgrade request gets an answer or a close, 101 only when it must', requests);
});

itEndsWhole(env);
