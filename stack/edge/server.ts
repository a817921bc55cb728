import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type EdgeFaults, NO_EDGE_FAULTS } from '../faults/hooks.ts';
import type { Logger } from '../log.ts';
import { listenOn } from '../topology/listen.ts';
import type { EdgeCertificate } from './cert.ts';
import { proxyHttp, proxyUpgrade, type Upstream } from './proxy.ts';

/** What a host name on the edge is: a portal deployment or the project's API gateway. */
export interface EdgeRoute {
  kind: 'portal' | 'api';
  upstream: Upstream;
}

export interface EdgeOptions {
  host?: string;
  port: number;
  certificate: EdgeCertificate;
  faults?: EdgeFaults;
  log: Logger;
}

export interface Edge {
  port: number;
  /** Route `hostname` (no port) to an upstream; replaces an earlier route for it. */
  route(hostname: string, route: EdgeRoute): void;
  stop(): Promise<void>;
}

/**
 * Headers a production host adds to every page it serves (Vercel and Netlify send HSTS by default;
 * the rest is the usual hardening). The API host gets none of them: hosted Supabase does not either.
 */
export const PORTAL_SECURITY_HEADERS: Record<string, string> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'X-Frame-Options': 'DENY',
};

function hostnameOf(req: IncomingMessage): string {
  const host = (req.headers.host ?? '').toLowerCase();
  return host.replace(/:\d+$/, '');
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function plainOnSocket(socket: Duplex, status: number, reason: string, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/**
 * The prod-like deployment's single HTTPS entry point: TLS with a certificate made at boot, routing
 * by Host to loopback upstreams, WebSocket upgrades passed through faithfully (Origin included, the
 * API's own refusals unchanged). Fault hooks are read on every request, so switching is immediate.
 */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const routes = new Map<string, EdgeRoute>();
  const faults = options.faults ?? NO_EDGE_FAULTS;
  const log = options.log;
  const upgraded = new Set<Duplex>();

  const unknownHost = (host: string) =>
    `No deployment is routed for host "${host || '(none)'}" on this edge. ` +
    `Routed hosts: ${[...routes.keys()].join(', ') || '(none yet)'}.\n`;
  const badGateway = (host: string, why: string) =>
    `502 Bad Gateway: the deployment behind ${host} is not answering (${why}).\n`;

  const server: Server = createServer(
    { key: options.certificate.key, cert: options.certificate.cert },
    (req, res) => {
      const host = hostnameOf(req);
      const route = routes.get(host);
      if (!route) return plain(res, 404, unknownHost(host));
      if (route.kind === 'portal' && faults.portalDown(host))
        return plain(res, 502, badGateway(host, 'portal-down'));
      try {
        proxyHttp(
          req,
          res,
          route.upstream,
          route.kind === 'portal' ? PORTAL_SECURITY_HEADERS : {},
          (error) => {
            log.warn(`upstream of ${host} unreachable`, { error: error.message });
            plain(res, 502, badGateway(host, error.message));
          },
        );
      } catch (error) {
        // node:http refuses some targets and headers the parser let in (ERR_UNESCAPED_CHARACTERS):
        // that request alone gets an answer, the edge serves on.
        log.warn(`request to ${host} could not be forwarded`, { error: (error as Error).message });
        if (!res.headersSent) plain(res, 400, `400 Bad Request: ${(error as Error).message}\n`);
        else res.destroy();
      }
    },
  );

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      upgrade(req, socket, head);
    } catch (error) {
      log.warn('upgrade could not be forwarded', { error: (error as Error).message });
      if (socket.writable) plainOnSocket(socket, 400, 'Bad Request', `${(error as Error).message}\n`);
      else socket.destroy();
    }
  });

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const host = hostnameOf(req);
    const route = routes.get(host);
    if (!route) {
      plainOnSocket(socket, 404, 'Not Found', unknownHost(host));
      return;
    }
    if (route.kind === 'portal' && faults.portalDown(host)) {
      plainOnSocket(socket, 502, 'Bad Gateway', badGateway(host, 'portal-down'));
      return;
    }
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    proxyUpgrade(req, socket, head, route.upstream, {
      stripUpgrade: route.kind === 'api' && faults.dropsUpgrade(req.headers.origin),
      onUnreachable: (error) => {
        log.warn(`upstream of ${host} unreachable for an upgrade`, { error: error.message });
        plainOnSocket(socket, 502, 'Bad Gateway', badGateway(host, error.message));
      },
    });
  }
  server.on('tlsClientError', (error: Error, socket: Socket) => {
    log.debug('TLS handshake failed', { error: error.message });
    socket.destroy();
  });

  const port = await listenOn(server, options.port, options.host ?? '127.0.0.1', 'HTTPS edge');
  log.info(`edge listening on https://127.0.0.1:${port}`, { certificate: options.certificate.fingerprint });
  return {
    port,
    route(hostname, route) {
      routes.set(hostname.toLowerCase(), route);
    },
    async stop() {
      for (const socket of upgraded) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
