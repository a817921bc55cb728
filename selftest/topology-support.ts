/**
 * Support for the topology and fault suites: a whole two-env deployment on free ports, and clients
 * that talk to it the way a browser does (TLS with SNI and Host through the edge, Origin on the
 * upgrade), waiting on answers, never on time.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { HELP_DESK_APP } from '../portals/help-desk-app.ts';
import { type Stack, type StackOptions, startStack } from '../stack/index.ts';
import { freePort } from '../stack/ports.ts';
import type { Env, Portal } from '../stack/topology/cells.ts';
import { type Deployment, seededUser } from '../stack/topology/deployment.ts';

export async function startDeployment(options: StackOptions = {}): Promise<Stack> {
  return startStack({
    envs: ['local', 'prod'],
    portals: true,
    ...options,
    ports: {
      db: await freePort(),
      localApi: 0,
      edge: 0,
      // Free ports for whatever app is deployed: the fixed ones belong to `npm run stack`.
      localPortals: Object.fromEntries((options.app ?? HELP_DESK_APP).portals.map((p) => [p.name, 0])),
      ...options.ports,
    },
  });
}

export function deployment(stack: Stack, env: Env): Deployment {
  const d = stack.deployments.get(env);
  if (!d)
    throw new Error(
      `The test stack has no ${env} deployment (envs: ${[...stack.deployments.keys()].join(', ')})`,
    );
  return d;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Subject alternative names of the certificate the edge presented (TLS only). */
  certificateNames?: string;
}

/**
 * GET (or another method) a URL as a browser would. `https://*.prod.localhost:<port>` is sent to
 * the edge on 127.0.0.1 with that name as SNI and Host, since Node's resolver need not know
 * `*.localhost`; http://localhost is sent to 127.0.0.1.
 */
export function fetchRaw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(
      {
        host: '127.0.0.1',
        port: Number(u.port || (tls ? 443 : 80)),
        method: init.method ?? 'GET',
        path: `${u.pathname}${u.search}`,
        headers: { host: u.host, ...init.headers },
        ...(tls ? { servername: u.hostname, rejectUnauthorized: false } : {}),
      },
      (res) => {
        // Read now: keep-alive detaches the socket from the response once the body is done.
        const certificateNames = tls
          ? (res.socket as TLSSocket).getPeerCertificate().subjectaltname
          : undefined;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ...(certificateNames !== undefined ? { certificateNames } : {}),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The config a portal page boots with (the JSON block the portal server injects). */
export async function servedConfig(url: string): Promise<Record<string, unknown> & { anonKey: string }> {
  const page = await fetchRaw(`${url}/login`);
  const json = /<script id="portal-config" type="application\/json">(.*?)<\/script>/s.exec(page.body)?.[1];
  if (page.status !== 200 || !json) {
    throw new Error(`No portal config in ${url}/login (HTTP ${page.status}): ${page.body.slice(0, 300)}`);
  }
  return JSON.parse(json) as Record<string, unknown> & { anonKey: string };
}

export type UpgradeOutcome =
  | { opened: true; socket: WebSocket }
  | { opened: false; status: number; headers: IncomingHttpHeaders; body: string };

/** Open the realtime socket of an env as a browser on `origin` would, with `apikey`. */
export function openSocket(d: Deployment, origin: string, apikey: string): Promise<UpgradeOutcome> {
  const api = new URL(d.supabaseUrl);
  const tls = api.protocol === 'https:';
  const url = `${tls ? 'wss' : 'ws'}://127.0.0.1:${api.port}/realtime/v1/websocket?apikey=${encodeURIComponent(apikey)}&vsn=2.0.0`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      origin,
      headers: { host: api.host },
      ...(tls ? { servername: api.hostname, rejectUnauthorized: false } : {}),
    });
    socket.once('open', () => resolve({ opened: true, socket }));
    socket.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          opened: false,
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    socket.once('error', (error) => reject(error));
  });
}

export async function expectOpened(d: Deployment, origin: string, apikey: string): Promise<WebSocket> {
  const outcome = await openSocket(d, origin, apikey);
  if (!outcome.opened) {
    throw new Error(
      `Upgrade from ${origin} to ${d.supabaseUrl} was refused: ${outcome.status} ${outcome.body}`,
    );
  }
  return outcome.socket;
}

/** Next V2 text frame on a socket, as `[join_ref, ref, topic, event, payload]`. */
export function nextFrame(
  socket: WebSocket,
): Promise<[string | null, string | null, string, string, Record<string, unknown>]> {
  return new Promise((resolve, reject) => {
    socket.once('message', (data) => resolve(JSON.parse(String(data))));
    socket.once('close', (code) => reject(new Error(`socket closed (${code}) before a frame arrived`)));
  });
}

/** Sign a seeded user in through the project's own listener; returns the access token's claims. */
export async function signInClaims(d: Deployment, portal: Portal): Promise<Record<string, unknown>> {
  const user = seededUser(d, portal);
  const res = await fetch(`${d.project.listenUrl}/auth/v1/token?grant_type=password`, {
    method: 'POST',
    headers: { apikey: d.project.config.anonKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Sign-in of ${user.email} on ${d.env} failed: ${res.status} ${text}`);
  const token = (JSON.parse(text) as { access_token: string }).access_token;
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
