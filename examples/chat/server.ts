import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSupabaseUmd } from '../../portals/assets.ts';
import type { PortalServeOptions, ServedPortal } from '../../stack/app.ts';
import { listen } from '../../stack/project.ts';

const APP_DIR = fileURLToPath(new URL('./app/', import.meta.url));
const PORTALS = ['member', 'moderator', 'live'] as const;

/** Client-side routes of each portal; the app picks the view once it knows the session. */
const ROUTES: Record<(typeof PORTALS)[number], RegExp> = {
  member: /^\/(sign-in|rooms\/\d+)?$/,
  live: /^\/(sign-in|rooms\/\d+)?$/,
  moderator: /^\/(queue|not-allowed)?$/,
};

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Serve one portal of the chat example (member, moderator or live) from the one codebase in app/. The
 * page carries its config as a JSON data block (never executed, so no CSP blocks it), read on every
 * load with the deployment's overrides: a stale anon key and a CSP are what this app can express.
 */
export async function startChatServer(options: PortalServeOptions): Promise<ServedPortal> {
  const portal = PORTALS.find((p) => p === options.portal);
  if (!portal)
    throw new Error(`The chat app has no portal "${options.portal}" (its portals: ${PORTALS.join(', ')}).`);
  const routes = ROUTES[portal];
  const shell = await readFile(join(APP_DIR, 'index.html'), 'utf8');
  const files = new Map<string, Buffer>();
  const hash = createHash('sha256');
  for (const name of (await readdir(APP_DIR)).sort()) {
    if (!(extname(name) in TYPES)) continue;
    const body = await readFile(join(APP_DIR, name));
    files.set(name, body);
    hash.update(name).update(body);
  }
  const vendor = await loadSupabaseUmd();
  const assetBase = `/assets/${hash.digest('hex').slice(0, 12)}/`;
  const cache = options.production ? 'public, max-age=31536000, immutable' : 'no-cache';

  function page(res: ServerResponse, head: boolean): void {
    const overrides = options.overrides();
    const config = {
      portal,
      supabaseUrl: options.supabaseUrl,
      anonKey: overrides.anonKey ?? options.anonKey,
      production: options.production,
      // What the deployed page does wrong right now (fault switches the live portal honours).
      behaviour: {
        joinBeforeSession: overrides.joinBeforeSession ?? false,
        privateChannel: overrides.privateChannel ?? true,
      },
    };
    const json = JSON.stringify(config).replace(/</g, '\\u003c');
    const body = Buffer.from(
      shell
        .replace('<!--chat-config-->', `<script id="chat-config" type="application/json">${json}</script>`)
        .replaceAll('__ASSETS__', assetBase)
        .replaceAll('__VENDOR__', `/vendor/supabase.js?v=${vendor.version}`),
    );
    const csp = overrides.csp ?? options.csp;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      ...(csp ? { 'Content-Security-Policy': csp } : {}),
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': body.length,
    });
    res.end(head ? undefined : body);
  }

  function send(
    res: ServerResponse,
    head: boolean,
    status: number,
    body: Buffer,
    type: string,
    extra = {},
  ): void {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      ...extra,
      'Content-Type': type,
      'Content-Length': body.length,
    });
    res.end(head ? undefined : body);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://chat.invalid').pathname;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      send(res, head, 405, Buffer.from(`${req.method} is not allowed\n`), 'text/plain; charset=utf-8', {
        Allow: 'GET, HEAD',
      });
      return;
    }
    const asset = path.startsWith(assetBase) ? files.get(path.slice(assetBase.length)) : undefined;
    if (routes.test(path)) page(res, head);
    else if (path === '/vendor/supabase.js')
      send(res, head, 200, vendor.body, TYPES['.js'] ?? '', { 'Cache-Control': cache });
    else if (asset)
      send(res, head, 200, asset, TYPES[extname(path)] ?? 'application/octet-stream', {
        'Cache-Control': cache,
      });
    else
      send(
        res,
        head,
        404,
        Buffer.from(`No page at ${path} on the chat ${portal} portal\n`),
        'text/plain; charset=utf-8',
      );
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      // overrides() is outside code; a failure there must show as a broken page load, not a hang.
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end(`The chat ${portal} portal could not render this page: ${(error as Error).message}\n`);
    }
  });
  await listen(server, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
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
