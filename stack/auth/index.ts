import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProjectContext } from '../context.ts';
import { gatewayCredentials } from '../http/gateway.ts';
import { HttpError, sendJson } from '../http/server.ts';
import type { Service } from '../services.ts';
import { createUser, deleteUserById, getUserById, updateUserById } from './admin.ts';
import { listUsers } from './admin-list.ts';
import { AuthError, sendAuthError, unprocessable } from './errors.ts';
import { type AccessTokenHook, parseHookUri } from './hook.ts';
import { health, settings } from './meta.ts';
import { tokenGrant } from './token-grant.ts';
import { getUser, logout, updateUser } from './user-endpoints.ts';

const PREFIX = '/auth/v1';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, param: string) => Promise<unknown>;
interface Endpoint {
  method: string;
  path: RegExp;
  handle: Handler;
  /** 200 with the returned JSON unless set. */
  status?: number;
  /** Served without an API key: the gateway's open auth routes (Kong's auth-v1-open-*). */
  open?: boolean;
}

/**
 * The embedded Auth service: the GoTrue subset supabase-js uses (PROTOCOL.md §3) under /auth/v1,
 * on the project's own auth tables. Paths match GoTrue's router; the gateway's API-key rule applies
 * first, as Kong's does in front of hosted GoTrue.
 */
export function authService(ctx: ProjectContext): Service {
  const hook: AccessTokenHook | undefined = ctx.config.accessTokenHook
    ? parseHookUri(ctx.config.accessTokenHook)
    : undefined;
  const log = ctx.log.child('auth');
  const endpoints: Endpoint[] = [
    { method: 'GET', path: /^\/health\/?$/, handle: async () => health(), open: true },
    {
      method: 'GET',
      path: /^\/\.well-known\/jwks\.json$/,
      // User tokens are HS256 with the project secret, which GoTrue never publishes: no keys.
      handle: async (_req, res) => {
        res.setHeader('Cache-Control', 'public, max-age=600');
        return { keys: [] };
      },
      open: true,
    },
    { method: 'GET', path: /^\/settings\/?$/, handle: async () => settings() },
    {
      method: 'POST',
      path: /^\/signup\/?$/,
      // Users come from seeds and the admin API only; /settings says so (disable_signup).
      handle: async () => {
        throw unprocessable('signup_disabled', 'Signups not allowed for this instance');
      },
    },
    { method: 'POST', path: /^\/token\/?$/, handle: (req, _res, url) => tokenGrant(ctx, hook, req, url) },
    { method: 'GET', path: /^\/user\/?$/, handle: (req, _res, url) => getUser(ctx, req, url) },
    { method: 'PUT', path: /^\/user\/?$/, handle: (req, _res, url) => updateUser(ctx, req, url) },
    { method: 'POST', path: /^\/logout\/?$/, handle: (req, _res, url) => logout(ctx, req, url), status: 204 },
    { method: 'GET', path: /^\/admin\/users\/?$/, handle: (req, res, url) => listUsers(ctx, req, res, url) },
    { method: 'POST', path: /^\/admin\/users\/?$/, handle: (req, _res, url) => createUser(ctx, req, url) },
    {
      method: 'GET',
      path: /^\/admin\/users\/([^/]+)\/?$/,
      handle: (req, _res, url, id) => getUserById(ctx, req, url, id),
    },
    {
      method: 'PUT',
      path: /^\/admin\/users\/([^/]+)\/?$/,
      handle: (req, _res, url, id) => updateUserById(ctx, req, url, id),
    },
    {
      method: 'DELETE',
      path: /^\/admin\/users\/([^/]+)\/?$/,
      handle: (req, _res, url, id) => deleteUserById(ctx, req, url, id),
    },
  ];

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice(PREFIX.length) || '/';
    const matches = endpoints.filter((e) => e.path.test(path));
    // Kong's key check comes before GoTrue's router: an unknown path without a key is still a 401.
    if (!matches.some((e) => e.open)) gatewayCredentials(req, url, ctx.keys);
    if (matches.length === 0) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    const endpoint = matches.find((e) => e.method === req.method);
    if (!endpoint) {
      res.writeHead(405).end();
      return;
    }
    // GoTrue exposes these for the admin list; the shared CORS layer does not know them.
    if (req.headers.origin && res.hasHeader('Access-Control-Expose-Headers')) {
      res.setHeader(
        'Access-Control-Expose-Headers',
        `${res.getHeader('Access-Control-Expose-Headers')}, link, x-total-count`,
      );
    }
    try {
      const param = pathParam(endpoint.path.exec(path)?.[1] ?? '');
      const body = await endpoint.handle(req, res, url, param);
      if (endpoint.status === 204) res.writeHead(204).end();
      else sendJson(res, endpoint.status ?? 200, body);
    } catch (error) {
      if (error instanceof HttpError) throw error;
      const authError =
        error instanceof AuthError
          ? error
          : new AuthError(500, 'unexpected_failure', 'Unexpected error', { cause: error });
      if (authError.status >= 500) {
        log.error(`${req.method} ${url.pathname} failed: ${authError.message}`, {
          cause: authError.cause instanceof Error ? authError.cause.message : String(authError.cause ?? ''),
        });
      }
      sendAuthError(req, res, authError);
    }
  }

  return { name: 'auth', routes: [{ prefix: PREFIX, handle }] };
}

/** A path segment decoded; a malformed escape stays as sent and then fails the id check (404). */
function pathParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch (error) {
    if (error instanceof URIError) return raw;
    throw error;
  }
}
