import type { PortalOverrides } from '../stack/faults/hooks.ts';

export type PortalName = 'client' | 'agent' | 'admin';
export const PORTAL_NAMES: readonly PortalName[] = ['client', 'agent', 'admin'];

/**
 * How the deployed app behaves towards realtime. Healthy is `{ forwardSession: true, subscribeTwice:
 * false }`; every other value is a real bug a real deployment has had (shared/FAILURES.md).
 */
export interface AppBehaviour {
  /** false: realtime runs on a client made before sign-in that never receives the session. */
  forwardSession: boolean;
  /** The (expired) token the app hands realtime instead of its session's. */
  staleAccessToken?: string;
  /** The filter the app subscribes with. */
  filter?: string;
  /** The app subscribes to the same topic twice (a second client, as a re-render creates). */
  subscribeTwice: boolean;
}

/** What the page learns from its deployment: `window.__PORTAL_CONFIG__`. Public values only. */
export interface PortalPageConfig {
  portal: PortalName;
  supabaseUrl: string;
  anonKey: string;
  behaviour: AppBehaviour;
  /** Production builds do no debug logging. */
  production: boolean;
}

export function pageConfig(
  base: { portal: PortalName; supabaseUrl: string; anonKey: string; production: boolean },
  overrides: PortalOverrides,
): PortalPageConfig {
  const behaviour: AppBehaviour = {
    forwardSession: overrides.forwardSession ?? true,
    subscribeTwice: overrides.subscribeTwice ?? false,
  };
  if (overrides.staleAccessToken !== undefined) behaviour.staleAccessToken = overrides.staleAccessToken;
  if (overrides.filter !== undefined) behaviour.filter = overrides.filter;
  return {
    portal: base.portal,
    supabaseUrl: base.supabaseUrl,
    anonKey: overrides.anonKey ?? base.anonKey,
    behaviour,
    production: base.production,
  };
}

const CONFIG_SLOT = '<!--portal-config-->';
const ASSET_SLOT = '__ASSETS__';
const VENDOR_SLOT = '__VENDOR__';

/**
 * The HTML shell with its config. The config travels as a JSON data block (`type=application/json`),
 * which no CSP blocks because it is never executed; the app copies it to `window.__PORTAL_CONFIG__`.
 * `<` is escaped so no value can close the script element.
 */
export function renderPage(
  shell: string,
  config: PortalPageConfig,
  assetBase: string,
  vendorUrl: string,
): string {
  if (!shell.includes(CONFIG_SLOT)) throw new Error(`Portal shell lacks the ${CONFIG_SLOT} slot`);
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return shell
    .replace(CONFIG_SLOT, `<script id="portal-config" type="application/json">${json}</script>`)
    .replaceAll(ASSET_SLOT, assetBase)
    .replaceAll(VENDOR_SLOT, vendorUrl);
}
