import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { bearer, readBody } from '../http/server.ts';
import type { Logger } from '../log.ts';
import { listenOn } from '../topology/listen.ts';
import { describeFaults, type FaultController, FaultRequestError } from './controller.ts';

export interface ControlServer {
  url: string;
  /** Required as `Authorization: Bearer <token>`; lives only in memory and in runtime.json. */
  token: string;
  stop(): Promise<void>;
}

/**
 * Run-time fault switching over HTTP, on loopback only and behind a bearer token made at boot:
 *   GET    /faults                              → { faults: [...catalogue], active: [...] }
 *   POST   /faults {cell, fault, on}            → { changed, active }
 *   DELETE /faults                              → { cleared, active }
 * Refusals are JSON `{ error, code }`; an unknown fault or cell is a 400 naming the valid ones.
 */
export async function startControlServer(
  controller: FaultController,
  log: Logger,
  port = 0,
): Promise<ControlServer> {
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);

  const authorized = (req: IncomingMessage) => {
    const given = Buffer.from(bearer(req) ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://control').pathname;
    if (!authorized(req)) {
      return send(
        res,
        401,
        {
          error:
            `${req.headers.authorization ? 'Wrong' : 'Missing'} bearer token for the fault control endpoint. ` +
            'Use control.token from .stack/runtime.json (stack/faults/control-client.ts does).',
          code: 'unauthorized',
        },
        { 'WWW-Authenticate': 'Bearer realm="rtm-faults"' },
      );
    }
    if (path !== '/faults')
      return send(res, 404, { error: `No ${path} here; use /faults.`, code: 'not_found' });
    if (req.method === 'GET')
      return send(res, 200, { faults: describeFaults(controller.app), active: controller.list() });
    if (req.method === 'DELETE') {
      const cleared = await controller.clear();
      return send(res, 200, { cleared, active: controller.list() });
    }
    if (req.method !== 'POST') {
      return send(
        res,
        405,
        { error: `${req.method} is not allowed on /faults`, code: 'method' },
        { Allow: 'GET, POST, DELETE' },
      );
    }
    let body: { cell?: unknown; fault?: unknown; on?: unknown };
    try {
      body = JSON.parse(await readBody(req, 64 * 1024)) as typeof body;
    } catch (error) {
      return send(res, 400, { error: `Body is not JSON: ${(error as Error).message}`, code: 'bad_request' });
    }
    if (typeof body.cell !== 'string' || typeof body.fault !== 'string' || typeof body.on !== 'boolean') {
      return send(res, 400, {
        error:
          'Body must be {"cell": "<portal>-<env>" (or an env for env-wide faults), "fault": "<name>", "on": true|false}.',
        code: 'bad_request',
      });
    }
    const changed = await controller.set(body.cell, body.fault, body.on);
    log.info(`fault ${body.fault} ${body.on ? 'on' : 'off'} for ${changed.target}`);
    return send(res, 200, { changed, active: controller.list() });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (error instanceof FaultRequestError)
        return send(res, 400, { error: error.message, code: error.code });
      log.error(`control ${req.method} ${req.url} failed`, { error: error.message });
      return send(res, 500, { error: `Switching failed: ${error.message}`, code: 'failed' });
    });
  });
  const bound = await listenOn(server, port, '127.0.0.1', 'fault control endpoint');
  return {
    url: `http://127.0.0.1:${bound}`,
    token,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}
