/**
 * The deployment's config, injected by the portal server as a JSON data block (never executed, so
 * no CSP can block it). Copied to `window.__PORTAL_CONFIG__`, where tests and people can read what
 * this deployment was built with. It only ever holds public values: the URL and the anon key.
 */
export function readPortalConfig() {
  const block = document.getElementById('portal-config');
  if (!block?.textContent) {
    throw new Error('This page has no #portal-config block: serve it with portals/server.ts, not as a file.');
  }
  const config = JSON.parse(block.textContent);
  window.__PORTAL_CONFIG__ = Object.freeze(config);
  return config;
}
