import type { IncomingMessage } from 'node:http';
import { readBody } from '../http/server.ts';
import { pgrstError } from './errors.ts';
import type { Payload } from './sql/statements.ts';

/**
 * The schema a request addresses: `Accept-Profile` on GET/HEAD, `Content-Profile` otherwise, the
 * first exposed schema when absent; an unexposed one is PostgREST's 406 PGRST106.
 */
export function requestSchema(
  req: IncomingMessage,
  schemas: string[],
): { schema: string; negotiated: boolean } {
  const reading = req.method === 'GET' || req.method === 'HEAD';
  const header = req.headers[reading ? 'accept-profile' : 'content-profile'];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return { schema: schemas[0] ?? 'public', negotiated: false };
  if (!schemas.includes(value)) {
    throw pgrstError(
      406,
      'PGRST106',
      `Invalid schema: ${value}`,
      null,
      `Only the following schemas are exposed: ${schemas.join(', ')}`,
    );
  }
  return { schema: value, negotiated: true };
}

/**
 * The transaction-scoped settings PostgREST gives every request (besides `request.jwt.claims` and the
 * role): headers (lower-case names, Cookie excluded) and cookies as JSON objects, the method, and the
 * path as PostgREST sees it behind the gateway (without `/rest/v1`).
 */
export function requestGucs(req: IncomingMessage, path: string, schema: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    // Cookies travel in request.cookies only, as in PostgREST.
    if (value && name.toLowerCase() !== 'cookie') headers[name.toLowerCase()] = value.join(',');
  }
  const cookies: Record<string, string> = {};
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) cookies[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const gucs: Record<string, string> = {
    'request.headers': JSON.stringify(headers),
    'request.cookies': JSON.stringify(cookies),
    'request.method': req.method ?? 'GET',
    'request.path': path,
  };
  // PostgREST runs GET and HEAD in a READ ONLY transaction, so a write reached through them (a
  // volatile function called with GET) fails with 25006 (405). Switching a transaction to read-only
  // is allowed after its first query, which is why this can ride along with the other settings.
  if (req.method === 'GET' || req.method === 'HEAD') gucs['transaction_read_only'] = 'on';
  // The request's schema, then the CLI's db-extra-search-path (`public, extensions`).
  if (schema !== 'public') gucs['search_path'] = `"${schema.replaceAll('"', '""')}", "public", "extensions"`;
  return gucs;
}

/**
 * The request body as PostgREST reads it: JSON (the default when no Content-Type is sent) or a
 * form; arrays must hold objects with one key set unless `columns=` says which keys count.
 */
export async function readPayload(
  req: IncomingMessage,
  hasColumns: boolean,
  emptyIsObject = false,
): Promise<Payload> {
  const text = await readBody(req);
  // An RPC call without a body has no arguments (PostgREST reads it as `{}`).
  if (emptyIsObject && text.trim() === '') return {};
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(text));
  }
  if (type !== 'application/json' && type !== 'application/vnd.pgrst.object+json') {
    throw pgrstError(400, 'PGRST102', `Content-Type not acceptable: ${type}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const error = pgrstError(400, 'PGRST102', 'Empty or invalid json');
    error.cause = cause;
    throw error;
  }
  if (Array.isArray(json)) {
    if (hasColumns) return json as Record<string, unknown>[];
    const first = json[0];
    if (first === undefined) return [];
    const keys = isObject(first) ? Object.keys(first).sort().join('\u0000') : undefined;
    const uniform = json.every((o) => isObject(o) && Object.keys(o).sort().join('\u0000') === keys);
    if (!uniform) throw pgrstError(400, 'PGRST102', 'All object keys must match');
    return json as Record<string, unknown>[];
  }
  if (isObject(json)) return json;
  // PostgREST reads any other JSON value as an empty array.
  return [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
