/**
 * The `connect-src` sources of a Content-Security-Policy header, which decide whether the browser may
 * open the realtime socket at all. Falls back to `default-src` as browsers do; null when neither is
 * set (no restriction).
 */
export function connectSrc(csp: string | null | undefined): string[] | null {
  if (!csp) return null;
  const directives = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources);
  }
  return directives.get('connect-src') ?? directives.get('default-src') ?? null;
}
