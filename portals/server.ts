import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PortalOverrides } from '../stack/faults/hooks.ts';
import { createLogger } from '../stack/log.ts';
import { listen } from '../stack/project.ts';
import { loadAppAssets } from './assets.ts';
import { type PortalName, pageConfig, renderPage } from './page.ts';

export type { PortalName } from './page.ts';

export interface PortalServerOptions {
  portal: PortalName;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The Supabase URL as the browser reaches it. */
  supabaseUrl: string;
  /** The only key the browser ever gets. Never pass a service-role key here. */
  anonKey: string;
  /** The healthy Content-Security-Policy (prod-like deployments); none when omitted. */
  csp?: string;
  /** Read on every page load: what the deployed portal really is right now. */
  overrides?: () => PortalOverrides;
  /** Serve as a production build: long-lived asset caching, no debug logging in the app. */
  production?: boolean;
}

export interface PortalServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The client-side routes; the app decides between them once it knows the session. */
const APP_ROUTES = new Set(['/', '/login', '/dashboard', '/unauthorized']);

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

/** Serve one portal (client, agent or admin) of the help-desk app. */
export async function startPortalServer(options: PortalServerOptions): Promise<PortalServer> {
  const assets = await loadAppAssets();
  const log = createLogger(`portal:${options.portal}`);
  const production = options.production ?? false;
  const assetBase = `/assets/${assets.buildId}/`;
  // The version in the query lets a production build cache the stable path forever.
  const vendorUrl = `/vendor/supabase.js?v=${assets.vendor.version}`;
  const assetCache = production ? 'public, max-age=31536000, immutable' : 'no-cache';

  function page(res: ServerResponse, head: boolean): void {
    const overrides = options.overrides?.() ?? {};
    const config = pageConfig(
      { portal: options.portal, supabaseUrl: options.supabaseUrl, anonKey: options.anonKey, production },
      overrides,
    );
    const body = Buffer.from(renderPage(assets.shell, config, assetBase, vendorUrl));
    const csp = overrides.csp ?? options.csp;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      ...(csp ? { 'Content-Security-Policy': csp } : {}),
      'Content-Type': 'text/html; charset=utf-8',
      // The page carries the deployment's config, which may change between loads (faults).
      'Cache-Control': 'no-store',
      'Content-Length': body.length,
    });
    res.end(head ? undefined : body);
  }

  function file(res: ServerResponse, head: boolean, body: Buffer, contentType: string): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': contentType,
      'Cache-Control': assetCache,
      'Content-Length': body.length,
    });
    res.end(head ? undefined : body);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://portal.invalid');
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      text(res, 405, `${req.method} is not allowed on ${url.pathname}`, { Allow: 'GET, HEAD' });
      return;
    }
    const asset = url.pathname.startsWith(assetBase)
      ? assets.files.get(url.pathname.slice(assetBase.length))
      : undefined;
    if (APP_ROUTES.has(url.pathname)) page(res, head);
    else if (url.pathname === '/vendor/supabase.js') {
      file(res, head, assets.vendor.body, 'text/javascript; charset=utf-8');
    } else if (asset) file(res, head, asset.body, asset.contentType);
    else if (url.pathname === '/favicon.ico') res.writeHead(204, SECURITY_HEADERS).end();
    else text(res, 404, `No page at ${url.pathname} on the ${options.portal} portal`);
  }

  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      // overrides() is outside code; a failure there must show as a broken page load, not a hang.
      log.error(`serving ${req.method} ${req.url} failed`, { error: String(error) });
      if (!res.headersSent) text(res, 500, `The ${options.portal} portal could not render this page`);
      else res.end();
    }
  });
  await listen(server, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${hostForUrl}:${port}`;
  log.info(`${options.portal} portal on ${url} (build ${assets.buildId}${production ? ', production' : ''})`);
  return {
    url,
    port,
    stop() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((error) =>
          error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING'
            ? reject(error)
            : resolve(),
        ),
      );
    },
  };
}

function text(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(`${message}\n`);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
}
