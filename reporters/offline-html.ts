/**
 * Removes third-party tracking from a generated report page (Allure 3's template always adds a Google
 * Analytics tag) and lists any remote script or stylesheet still referenced, so the caller can refuse
 * a page that would reach the network when opened.
 */
const GTAG_LOADER = /<script\b[^>]*\bsrc="https:\/\/www\.googletagmanager\.com\/[^"]*"[^>]*>\s*<\/script>/g;
const GTAG_INLINE = /<script\b[^>]*>(?:(?!<\/script>)[\s\S])*?\bgtag\((?:(?!<\/script>)[\s\S])*<\/script>/g;
const REMOTE_REF = /<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="((?:https?:)?\/\/[^"]+)"/g;

export function stripRemoteScripts(html: string): { html: string; remaining: string[] } {
  const cleaned = html.replace(GTAG_LOADER, '').replace(GTAG_INLINE, '');
  const remaining = [...cleaned.matchAll(REMOTE_REF)].map((m) => m[1]!);
  return { html: cleaned, remaining };
}
