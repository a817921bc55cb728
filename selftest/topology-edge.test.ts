import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { makeEdgeCertificate } from '../stack/edge/cert.ts';
import { type Edge, startEdge } from '../stack/edge/server.ts';
import type { EdgeFaults } from '../stack/faults/hooks.ts';
import { createLogger } from '../stack/log.ts';
import { fetchRaw } from './topology-support.ts';

/**
 * The edge alone, in front of upstreams this test controls: what goes through it must arrive as
 * sent (headers, bodies, frames, close codes, refusals), and its own answers must be exact.
 */
/** TLS options as a browser opening the API host would use them (ws passes them to tls.connect). */
const API_TLS = { servername: 'api.prod.localhost', rejectUnauthorized: false };

describe('HTTPS edge', () => {
  let edge: Edge;
  let api: Server;
  let portal: Server;
  const faults = { down: new Set<string>(), dropped: new Set<string>() };
  const seen: { url?: string; headers: Record<string, unknown>; body: string }[] = [];

  beforeAll(async () => {
    portal = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Frame-Options': 'SAMEORIGIN' });
      // Streamed in pieces: the edge must not need a Content-Length to pass it on.
      res.write('portal ');
      res.end(req.headers.host);
    });
    api = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      seen.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(201, { 'Content-Type': 'application/json', 'X-Upstream': 'api' });
      res.end(JSON.stringify({ ok: true }));
    });
    const wss = new WebSocketServer({ noServer: true });
    api.on('upgrade', (req, socket, head) => {
      if (req.url?.includes('refuse')) {
        const body = '{"error":"Failed to validate JWT signature"}';
        socket.end(
          'HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json; charset=utf-8\r\n' +
            `X-Reason: signature\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(`hello ${req.headers.origin}`);
        ws.on('message', (data) => {
          if (String(data) === 'bye') ws.close(4001, 'done here');
          else ws.send(`echo ${String(data)}`);
        });
      });
    });
    for (const server of [portal, api])
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const hooks: EdgeFaults = {
      portalDown: (host) => faults.down.has(host),
      dropsUpgrade: (origin) => !!origin && faults.dropped.has(origin),
    };
    edge = await startEdge({
      port: 0,
      certificate: await makeEdgeCertificate('prod.localhost', ['api', 'client']),
      faults: hooks,
      log: createLogger('edge-test'),
    });
    edge.route('api.prod.localhost', {
      kind: 'api',
      upstream: { host: '127.0.0.1', port: (api.address() as AddressInfo).port },
    });
    edge.route('client.prod.localhost', {
      kind: 'portal',
      upstream: { host: '127.0.0.1', port: (portal.address() as AddressInfo).port },
    });
  });
  afterAll(async () => {
    await edge?.stop();
    for (const server of [api, portal]) {
      server?.closeAllConnections();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    }
  });

  const url = (host: string, path = '/') => `https://${host}.prod.localhost:${edge.port}${path}`;

  function socket(path: string, origin: string): Promise<{ ws: WebSocket; first: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${edge.port}${path}`, {
        origin,
        headers: { host: `api.prod.localhost:${edge.port}` },
        ...API_TLS,
      });
      ws.once('message', (data) => resolve({ ws, first: String(data) }));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  it('forwards method, path, body, Host and Origin, and adds what a TLS host adds', async () => {
    const answer = await fetchRaw(url('api', '/rest/v1/tickets?select=id'), {
      method: 'POST',
      headers: { origin: 'https://client.prod.localhost', 'content-type': 'application/json' },
      body: '{"title":"through the edge"}',
    });
    expect(answer.status).toBe(201);
    expect(answer.headers['x-upstream']).toBe('api');
    // The API host gets no portal hardening headers.
    expect(answer.headers['strict-transport-security']).toBeUndefined();
    const request = seen.at(-1);
    expect(request).toMatchObject({
      url: '/rest/v1/tickets?select=id',
      body: '{"title":"through the edge"}',
    });
    expect(request?.headers).toMatchObject({
      host: `api.prod.localhost:${edge.port}`,
      origin: 'https://client.prod.localhost',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': `api.prod.localhost:${edge.port}`,
      'x-forwarded-for': '127.0.0.1',
    });
  });

  it("streams a portal's page and adds HSTS without overriding the portal's own headers", async () => {
    const page = await fetchRaw(url('client'));
    expect(page.status).toBe(200);
    expect(page.body).toBe(`portal client.prod.localhost:${edge.port}`);
    expect(page.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('splices WebSocket frames both ways and passes the close code through', async () => {
    const { ws, first } = await socket('/realtime/v1/websocket', 'https://client.prod.localhost');
    expect(first).toBe('hello https://client.prod.localhost');
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('ping');
    expect(await echoed).toBe('echo ping');
    const closed = new Promise<[number, string]>((r) =>
      ws.once('close', (code, reason) => r([code, String(reason)])),
    );
    ws.send('bye');
    expect(await closed).toEqual([4001, 'done here']);
  });

  it("passes the upstream's upgrade refusal back unchanged", async () => {
    const refused = await new Promise<{ status?: number; header?: string; body: string }>(
      (resolve, reject) => {
        const ws = new WebSocket(`wss://127.0.0.1:${edge.port}/realtime/v1/websocket?refuse=1`, {
          headers: { host: `api.prod.localhost:${edge.port}` },
          ...API_TLS,
        });
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () =>
            resolve({ status: res.statusCode, header: res.headers['x-reason'] as string, body }),
          );
        });
        ws.once('open', () => reject(new Error('the refused upgrade opened')));
      },
    );
    expect(refused).toEqual({
      status: 401,
      header: 'signature',
      body: '{"error":"Failed to validate JWT signature"}',
    });
  });

  it('answers unknown hosts 404, a downed portal 502, and strips Upgrade for a dropped origin', async () => {
    const unknown = await fetchRaw(url('nope'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toBe(
      `No deployment is routed for host "nope.prod.localhost" on this edge. Routed hosts: api.prod.localhost, client.prod.localhost.\n`,
    );

    faults.down.add('client.prod.localhost');
    const down = await fetchRaw(url('client'));
    expect(down.status).toBe(502);
    expect(down.body).toBe(
      '502 Bad Gateway: the deployment behind client.prod.localhost is not answering (portal-down).\n',
    );
    faults.down.clear();
    expect((await fetchRaw(url('client'))).status).toBe(200);

    faults.dropped.add('https://client.prod.localhost');
    const before = seen.length;
    await expect(socket('/realtime/v1/websocket', 'https://client.prod.localhost')).rejects.toThrow(
      'upgrade answered 201',
    );
    // The upstream got a plain GET: no Upgrade, no WebSocket handshake headers.
    const plain = seen[before];
    expect(plain?.url).toBe('/realtime/v1/websocket');
    expect(plain?.headers).not.toHaveProperty('upgrade');
    expect(plain?.headers).not.toHaveProperty('sec-websocket-key');
    const other = await socket('/realtime/v1/websocket', 'https://agent.prod.localhost');
    other.ws.close();
    faults.dropped.clear();
  });
});
