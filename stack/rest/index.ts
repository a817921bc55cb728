import type { ProjectContext } from '../context.ts';
import type { Route } from '../http/server.ts';
import type { Service } from '../services.ts';
import { authenticate } from './auth.ts';
import { pgrstError } from './errors.ts';
import { handleRpc } from './rpc.ts';
import { SchemaCache } from './schema-cache.ts';
import { handleTable } from './table-request.ts';

export const REST_PREFIX = '/rest/v1';

export interface RestOptions {
  /** Exposed schemas, first = default (PostgREST `db-schemas`; `public` as on a default project). */
  schemas?: string[];
}

/**
 * The PostgREST subset supabase-js uses (shared/PROTOCOL.md §4): tables and views of the exposed
 * schemas, filters, ordering, paging, counts, upserts and RPC, run as the token's role so RLS
 * decides exactly as it does behind the hosted API.
 */
export function restService(ctx: ProjectContext, options: RestOptions = {}): Service {
  const cache = new SchemaCache(ctx.db.admin, options.schemas ?? ['public']);
  const route: Route = {
    prefix: REST_PREFIX,
    async handle(req, res, url) {
      // Authentication comes first, as in PostgREST: a bad token is a 401 whatever the path.
      const identity = await authenticate(req, url, ctx);
      const path = url.pathname.slice(REST_PREFIX.length) || '/';
      const segments = pathSegments(path);
      const base = { ctx, cache, identity, req, res, url, path };
      if (segments.length === 1 && segments[0]) {
        await handleTable({ ...base, tableName: segments[0] });
      } else if (segments.length === 2 && segments[0] === 'rpc' && segments[1]) {
        await handleRpc({ ...base, functionName: segments[1] });
      } else if (segments.length === 0) {
        throw pgrstError(404, 'PGRST126', 'Root endpoint metadata is disabled');
      } else {
        throw pgrstError(404, 'PGRST125', 'Invalid path specified in request URL');
      }
    },
  };
  return { name: 'rest', routes: [route] };
}

function pathSegments(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch (cause) {
    if (!(cause instanceof URIError)) throw cause;
    const error = pgrstError(404, 'PGRST125', 'Invalid path specified in request URL');
    error.cause = cause;
    throw error;
  }
}
