import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** An error a handler throws to answer with an exact status, body and headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.name = 'HttpError';
  }
}

export interface Route {
  /** Path prefix, e.g. "/auth/v1". The handler sees the full URL. */
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
}

export interface ApiServerOptions {
  routes: Route[];
  /** undefined = any origin is allowed (local default); otherwise the exact allow-list. */
  allowedOrigins?: string[];
  onError?: (error: unknown, req: IncomingMessage) => void;
}

// What supabase-js and browsers send; Kong's CORS plugin on hosted projects allows these.
const ALLOW_HEADERS =
  'authorization, x-client-info, apikey, content-type, x-supabase-api-version, prefer, accept-profile, content-profile, range, x-upsert, x-retry-count';
const EXPOSE_HEADERS = 'content-range, x-supabase-api-version, x-sb-error-code, content-profile';

export function originAllowed(origin: string | undefined, allowed: string[] | undefined): boolean {
  if (!allowed || !origin) return true;
  return allowed.includes(origin);
}

export function createApiServer(options: ApiServerOptions): Server {
  const server = createServer((req, res) => {
    void dispatch(req, res).catch((error) => {
      options.onError?.(error, req);
      if (!res.headersSent) sendJson(res, 500, { message: 'internal error' });
      else res.end();
    });
  });

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!url) {
      sendJson(res, 400, { message: 'Bad Request' });
      return;
    }
    const origin = req.headers.origin;
    const allowed = originAllowed(origin, options.allowedOrigins);
    if (origin && allowed) {
      res.setHeader('Access-Control-Allow-Origin', options.allowedOrigins ? origin : '*');
      res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
      if (options.allowedOrigins) res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
        res.setHeader(
          'Access-Control-Allow-Headers',
          req.headers['access-control-request-headers'] ?? ALLOW_HEADERS,
        );
        res.setHeader('Access-Control-Max-Age', '3600');
      }
      res.writeHead(allowed ? 204 : 403).end();
      return;
    }
    const route = options.routes.find((r) => url.pathname.startsWith(r.prefix));
    if (!route) {
      sendJson(res, 404, { message: 'no Route matched with those values' });
      return;
    }
    try {
      await route.handle(req, res, url);
    } catch (error) {
      if (error instanceof HttpError) sendError(res, error);
      else throw error;
    }
  }

  // Nothing in an upgrade request may throw out of this listener: it would end the process.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      const url = requestUrl(req);
      if (!url) {
        rejectUpgrade(socket, 400, { message: 'Bad Request' });
        return;
      }
      const route = options.routes.find((r) => r.upgrade && url.pathname.startsWith(r.prefix));
      if (!route?.upgrade) {
        rejectUpgrade(socket, 404, { message: 'no Route matched with those values' });
        return;
      }
      route.upgrade(req, socket, head, url);
    } catch (error) {
      options.onError?.(error, req);
      if (socket.writable) rejectUpgrade(socket, 500, { error: 'Error connecting to Realtime' });
      else socket.destroy();
    }
  });
  return server;
}

/**
 * The request target as a URL, or undefined when it cannot be one (`*`, a malformed absolute form).
 * An origin-form target is a path, whatever it looks like: `//x` is the path `//x`, where WHATWG
 * URL parsing against a base would read `x` as a host (or throw, for `//`).
 */
export function requestUrl(req: IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  try {
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target);
  } catch (error) {
    if (error instanceof TypeError) return undefined;
    throw error;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, error.body, error.headers);
}

/** Answer an upgrade request with a plain HTTP response and close: the socket never opens. */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  const reason = STATUS_TEXT[status] ?? 'Error';
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    'Connection: close',
    ...(text ? ['Content-Type: application/json; charset=utf-8'] : []),
    `Content-Length: ${Buffer.byteLength(text)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export async function readBody(req: IncomingMessage, limit = 10 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, { message: 'Payload Too Large' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Bearer token or undefined. */
export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.*)$/i.exec(h);
  return m ? (m[1] ?? '').trim() : undefined;
}
