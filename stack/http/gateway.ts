import type { IncomingMessage } from 'node:http';
import { type ApiKeys, isOpaqueKey, mapApiKey } from '../keys.ts';
import { bearer, HttpError } from './server.ts';

/**
 * What the gateway in front of every hosted Supabase service does before the service sees a
 * request (Kong on `supabase start`, PROTOCOL.md §5.3): find the API key (header `apikey`, else the
 * `apikey` query param), map opaque `sb_…` keys to the JWT they stand for, and decide the token the
 * service authenticates: the caller's own `Authorization` unless it is missing or an opaque key.
 */
export interface GatewayCredentials {
  /** The API key as sent (anon JWT, service_role JWT or `sb_…`). */
  apiKey: string;
  /** The JWT the service must verify (user JWT, or the key's JWT). */
  token: string;
}

export function gatewayCredentials(req: IncomingMessage, url: URL, keys: ApiKeys): GatewayCredentials {
  const header = req.headers['apikey'];
  const apiKey = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('apikey') ?? undefined;
  if (!apiKey) {
    throw new HttpError(401, {
      message: 'No API key found in request',
      hint: 'No `apikey` request header or url param was found.',
    });
  }
  const auth = bearer(req);
  const token = auth && !isOpaqueKey(auth) ? auth : mapApiKey(keys, apiKey);
  return { apiKey, token };
}
