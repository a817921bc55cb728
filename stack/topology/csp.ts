/**
 * Content-Security-Policy of the portals. A production host serves the healthy one; the
 * `csp-blocks-socket` fault serves the same policy with the realtime origin missing from
 * `connect-src`, the way a team writes it when it lists "the Supabase URL" once: Chromium does not
 * let an `https:` (or `http:`) source cover a `wss:` (`ws:`) connection, so the socket is blocked
 * before any handshake while REST and auth keep working.
 */

/** The socket origin that matches an API URL: http → ws, https → wss. */
export function socketOrigin(apiUrl: string): string {
  const url = new URL(apiUrl);
  return `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`;
}

function policy(connectSrc: string[]): string {
  return [
    "default-src 'self'",
    `connect-src ${connectSrc.join(' ')}`,
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
}

export function healthyPortalCsp(apiUrl: string): string {
  return policy(["'self'", new URL(apiUrl).origin, socketOrigin(apiUrl)]);
}

export function cspWithoutSocket(apiUrl: string): string {
  return policy(["'self'", new URL(apiUrl).origin]);
}
