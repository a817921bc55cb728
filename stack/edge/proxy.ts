import { type IncomingMessage, type OutgoingHttpHeaders, request, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Where a routed host really lives: a loopback HTTP server. */
export interface Upstream {
  host: string;
  port: number;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded as-is.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);
const WEBSOCKET_HANDSHAKE = /^sec-websocket-/;

function forwardedHeaders(req: IncomingMessage, drop: (name: string) => boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !drop(name)) headers[name] = value;
  }
  // What a TLS-terminating host tells the app behind it; Host (and Origin) pass unchanged.
  const peer = req.socket.remoteAddress ?? '127.0.0.1';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${peer}` : peer;
  headers['x-forwarded-proto'] = 'https';
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  return headers;
}

/**
 * Forward one HTTP request and stream both bodies. `extraHeaders` are added to the response only
 * where the upstream did not set them (an app's own header wins, as on real hosts).
 */
export function proxyHttp(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  extraHeaders: Record<string, string>,
  onUnreachable: (error: Error) => void,
  replace?: TextReplacement,
): void {
  const requestHeaders = forwardedHeaders(req, (n) => HOP_BY_HOP.has(n));
  // A body to rewrite must arrive as text: no compression, and no 304 that keeps the old one.
  if (replace) {
    requestHeaders['accept-encoding'] = 'identity';
    delete requestHeaders['if-none-match'];
    delete requestHeaders['if-modified-since'];
  }
  const upstreamReq = request(
    {
      host: upstream.host,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: requestHeaders,
    },
    (upstreamRes) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upstreamRes.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
      }
      for (const [name, value] of Object.entries(extraHeaders)) headers[name.toLowerCase()] ??= value;
      const status = upstreamRes.statusCode ?? 502;
      if (!replace || !rewritable(upstreamRes.headers)) {
        res.writeHead(status, upstreamRes.statusMessage, headers);
        upstreamRes.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.on('error', (error) => res.destroy(error));
      upstreamRes.on('end', () => {
        const body = Buffer.from(Buffer.concat(chunks).toString('utf8').replaceAll(replace.from, replace.to));
        headers['content-length'] = String(body.length);
        delete headers['etag'];
        delete headers['last-modified'];
        res.writeHead(status, upstreamRes.statusMessage, headers);
        res.end(body);
      });
    },
  );
  upstreamReq.on('error', (error) => {
    if (!res.headersSent) onUnreachable(error);
    else res.destroy(error);
  });
  res.on('close', () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });
  req.pipe(upstreamReq);
}

/** Every occurrence of `from` in a textual response body becomes `to` (a deployment built with it). */
export interface TextReplacement {
  from: string;
  to: string;
}

/** HTML, scripts, JSON, CSS and other text, sent uncompressed: what a bundle or a config is served as. */
function rewritable(headers: IncomingMessage['headers']): boolean {
  const encoding = headers['content-encoding'];
  if (encoding && encoding !== 'identity') return false;
  const type = (headers['content-type'] ?? '').toLowerCase();
  // A stream (server-sent events, a dev server's live reload) never ends: it is passed through.
  if (type.startsWith('text/event-stream')) return false;
  return /^text\/|javascript|ecmascript|json|xml/.test(type);
}

export interface UpgradeOptions {
  /**
   * Forward the request without `Upgrade`/`Connection`/`Sec-WebSocket-*`, as a proxy that does not
   * speak WebSocket does: the upstream sees a plain GET and its plain answer goes back.
   */
  stripUpgrade: boolean;
  onUnreachable(error: Error): void;
}

/**
 * Forward a WebSocket upgrade. A 101 splices the two sockets; any other answer (the API's 401/403
 * refusals) is passed back with its status, headers and body unchanged.
 */
export function proxyUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  upstream: Upstream,
  options: UpgradeOptions,
): void {
  const drop = options.stripUpgrade
    ? (n: string) => HOP_BY_HOP.has(n) || WEBSOCKET_HANDSHAKE.test(n)
    : (n: string) => HOP_BY_HOP.has(n) && n !== 'upgrade' && n !== 'connection';
  const upstreamReq = request({
    host: upstream.host,
    port: upstream.port,
    method: req.method,
    path: req.url,
    headers: forwardedHeaders(req, drop),
  });
  upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
    socket.write(statusAndHeaders(upstreamRes, upstreamRes.rawHeaders));
    if (upstreamHead.length) socket.write(upstreamHead);
    if (head.length) upstreamSocket.write(head);
    // A clean close on one side is passed on as a clean close (after the data in flight, so the
    // peer still gets the last frames and the close code); a broken side breaks the other.
    for (const [from, to] of [
      [upstreamSocket, socket],
      [socket, upstreamSocket],
    ] as const) {
      from.on('error', () => to.destroy());
      from.on('close', (hadError: boolean) => (hadError ? to.destroy() : to.end()));
      from.pipe(to);
    }
  });
  upstreamReq.on('response', (upstreamRes) => {
    // Refusals are small; buffering lets the body go back with an exact Content-Length.
    const chunks: Buffer[] = [];
    upstreamRes.on('data', (c: Buffer) => chunks.push(c));
    upstreamRes.on('end', () => {
      const body = Buffer.concat(chunks);
      const raw: string[] = [];
      for (let i = 0; i < upstreamRes.rawHeaders.length; i += 2) {
        const name = upstreamRes.rawHeaders[i] ?? '';
        if (HOP_BY_HOP.has(name.toLowerCase()) || name.toLowerCase() === 'content-length') continue;
        raw.push(name, upstreamRes.rawHeaders[i + 1] ?? '');
      }
      raw.push('Content-Length', String(body.length), 'Connection', 'close');
      socket.end(Buffer.concat([Buffer.from(statusAndHeaders(upstreamRes, raw)), body]));
    });
  });
  upstreamReq.on('error', (error) => {
    if (socket.writable) options.onUnreachable(error);
  });
  socket.on('error', () => upstreamReq.destroy());
  upstreamReq.end();
}

function statusAndHeaders(res: IncomingMessage, raw: string[]): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
  for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
