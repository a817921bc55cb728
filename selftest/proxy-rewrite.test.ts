import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyHttp } from '../stack/edge/proxy.ts';

/**
 * The proxy in front of a command portal rewriting what it serves (the `bad-apikey` fault): text
 * bodies get the stale key in place of the healthy one with a correct length, while what cannot or
 * must not be rewritten passes through as sent — a compressed body, binary content, and a stream that
 * never ends (server-sent events), whose first event must arrive without waiting for an end.
 */
const HEALTHY = 'healthy.anon.key';
const STALE = 'a-much-longer-stale-anon-key-signed-by-another-secret';
const seen: Record<string, string | undefined>[] = [];
let upstream: Server;
let proxy: Server;
let base: string;

function app(req: IncomingMessage, res: ServerResponse): void {
  seen.push({
    path: req.url,
    acceptEncoding: req.headers['accept-encoding'],
    ifNoneMatch: req.headers['if-none-match'],
  });
  if (req.url === '/main.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript', ETag: '"v1"' });
    res.end(`const key = "${HEALTHY}"; const again = '${HEALTHY}';`);
  } else if (req.url === '/zipped.js') {
    const body = gzipSync(`const key = "${HEALTHY}";`);
    res.writeHead(200, {
      'Content-Type': 'text/javascript',
      'Content-Encoding': 'gzip',
      'Content-Length': body.length,
    });
    res.end(body);
  } else if (req.url === '/logo.png') {
    res.writeHead(200, { 'Content-Type': 'image/png' });
    res.end(Buffer.from(HEALTHY));
  } else if (req.url === '/events') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write(`data: ${HEALTHY}\n\n`); // and never ends
  } else {
    res.writeHead(404).end();
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  upstream = createServer(app);
  const port = await listen(upstream);
  proxy = createServer((req, res) =>
    proxyHttp(req, res, { host: '127.0.0.1', port }, {}, () => res.writeHead(502).end(), {
      from: HEALTHY,
      to: STALE,
    }),
  );
  base = `http://127.0.0.1:${await listen(proxy)}`;
});

afterAll(async () => {
  proxy?.closeAllConnections();
  upstream?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await new Promise((resolve) => upstream?.close(resolve));
});

describe('the proxy serving a stale key', () => {
  it('rewrites every occurrence in a script, fixes the length, drops the validator, asks for identity', async () => {
    const res = await fetch(`${base}/main.js`, {
      headers: { 'Accept-Encoding': 'gzip, br', 'If-None-Match': '"v1"' },
    });
    const text = await res.text();
    expect(text).toBe(`const key = "${STALE}"; const again = '${STALE}';`);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(res.headers.get('etag')).toBeNull();
    expect(seen.at(-1)).toMatchObject({
      path: '/main.js',
      acceptEncoding: 'identity',
      ifNoneMatch: undefined,
    });
  });

  it('passes a compressed body and binary content through as sent', async () => {
    const zipped = await fetch(`${base}/zipped.js`);
    // fetch inflates: the upstream's bytes arrived unchanged, key and all.
    expect(await zipped.text()).toBe(`const key = "${HEALTHY}";`);
    expect(Buffer.from(await (await fetch(`${base}/logo.png`)).arrayBuffer()).toString()).toBe(HEALTHY);
  });

  it('streams server-sent events at once instead of waiting for an end that never comes', async () => {
    const abort = new AbortController();
    const res = await fetch(`${base}/events`, { signal: abort.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe(`data: ${HEALTHY}\n\n`);
    abort.abort();
    await reader.cancel().catch(() => undefined);
  });
});
