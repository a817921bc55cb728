import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/server.ts';

/**
 * GoTrue's one error type (internal/api/apierrors HTTPError): a status, a stable `error_code` and
 * the message the client shows. `extra` carries the few bodies with more fields (weak_password).
 */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    options?: { cause?: unknown; extra?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthError';
    this.extra = options?.extra;
  }
  readonly extra: Record<string, unknown> | undefined;
}

export const badRequest = (code: string, message: string, cause?: unknown) =>
  new AuthError(400, code, message, { cause });
export const forbidden = (code: string, message: string, cause?: unknown) =>
  new AuthError(403, code, message, { cause });
export const notFound = (code: string, message: string) => new AuthError(404, code, message);
export const unprocessable = (code: string, message: string) => new AuthError(422, code, message);
export const internal = (message: string, cause?: unknown) =>
  new AuthError(500, 'unexpected_failure', message, { cause });

const API_VERSION_HEADER = 'x-supabase-api-version';
const API_VERSION_2024 = '2024-01-01';

/**
 * Answer as GoTrue's HandleResponseError does: with `X-Supabase-Api-Version: 2024-01-01` (or later)
 * on the request, echo it and send `{code, message}`; otherwise the legacy
 * `{code:<status>, error_code, msg}`. `x-sb-error-code` goes out in both cases, and auth-js reads
 * the code from the body only when the version header is echoed (PROTOCOL.md §3.8).
 */
export function sendAuthError(req: IncomingMessage, res: ServerResponse, error: AuthError): void {
  const code = error.code ?? (error.status === 500 ? 'unexpected_failure' : 'unknown');
  const headers: Record<string, string> = { 'x-sb-error-code': code };
  const requested = req.headers[API_VERSION_HEADER];
  const version = Array.isArray(requested) ? requested[0] : requested;
  const modern = version !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= API_VERSION_2024;
  if (modern) {
    headers['X-Supabase-Api-Version'] = API_VERSION_2024;
    sendJson(res, error.status, { code, message: error.message, ...error.extra }, headers);
  } else {
    sendJson(
      res,
      error.status,
      { code: error.status, error_code: code, msg: error.message, ...error.extra },
      headers,
    );
  }
}
