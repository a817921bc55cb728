import type { PortalOverrides } from './faults/hooks.ts';

/**
 * The app the embedded stack deploys in each environment: its Supabase folder (migrations, seed,
 * config.toml), the table realtime watches, and its portals with the server that serves each one.
 * The help-desk demo is one such app (portals/help-desk-app.ts); a team's own app, or
 * examples/chat, is another, named by the `embedded` section of its realtime-matrix config.
 */
export interface StackApp {
  /** Shown in the boot summary, e.g. "help-desk". */
  name: string;
  /** Absolute path of the app's Supabase CLI folder: `migrations/*.sql`, optional `seed.sql`. */
  supabaseDir: string;
  /**
   * The custom access token hook as config.toml names it (`pg-functions://postgres/public/<fn>`);
   * omitted = none, tokens carry GoTrue's standard claims only.
   */
  accessTokenHook?: string;
  /**
   * The project's Realtime settings as its hosted dashboard has them, per environment when they
   * differ: `privateOnly` = "Allow public access" off, so public channel joins are refused with
   * `PrivateOnly: This project only allows private channels`.
   */
  realtime?: { privateOnly?: boolean | { local?: boolean; prod?: boolean } };
  /** The table the matrix watches; env-wide database faults (table-not-published) act on it. */
  table: { schema: string; name: string };
  portals: readonly StackAppPortal[];
  /**
   * Users the local project already has from `seed.sql`, with their (public, demo) password, by
   * portal. Portals not listed here get a user made through the admin API with a generated password
   * in every env, when `seedEmail` names one; otherwise the matrix seeds its own.
   */
  localSeedUsers?: Readonly<Record<string, { email: string; password: string }>>;
  /**
   * App-specific fault mechanisms this app has (shared/FAILURES.md). The generic faults work on any
   * app; a fault that needs one of these is refused for an app that does not list it.
   */
  mechanisms?: readonly AppMechanism[];
}

/**
 * Pieces of an app some faults act through:
 * - `user-role-hook`: `public.custom_access_token_hook` copies `app_metadata.user_role` into the
 *   token's `user_role` claim (role-claim-missing);
 * - `select-policy-per-role`: `public.tickets` has one SELECT policy per portal naming its role as
 *   `'<portal>'::text` (rls-hides-rows);
 * - the rest: the portal server honours that `PortalOverrides` field (session-not-forwarded,
 *   expired-token, filter-mismatch, duplicate-subscription, broadcast-anon-join,
 *   broadcast-not-private).
 */
export type AppMechanism =
  | 'user-role-hook'
  | 'select-policy-per-role'
  | 'forward-session'
  | 'stale-access-token'
  | 'filter'
  | 'subscribe-twice'
  | 'join-before-session'
  | 'private-channel';

export interface StackAppPortal {
  /** The portal's name: the `<portal>` of the `<portal>-<env>` cells, and its prod host name. */
  name: string;
  /** The local dev server's fixed port (http://localhost:<port>); 0 = a free one. */
  localPort: number;
  /**
   * Where the team already serves this portal: the stack starts nothing for it, in any env, and uses
   * this URL (no edge route in prod; its origin is on the prod project's allow-list). `serve` is
   * then never called. Set by the declarative `embedded` form (a portal with a url and no command).
   */
  url?: string;
  /** The seeded user's email, made through the admin API with a generated password (optional). */
  seedEmail?: string;
  /** The seeded user's app_metadata (e.g. `{ user_role: 'agent' }`). */
  seedAppMetadata?: Readonly<Record<string, unknown>>;
  /** Start one instance of this portal. */
  serve(options: PortalServeOptions): Promise<ServedPortal>;
}

export interface PortalServeOptions {
  /** The portal's name (one server factory may serve several portals). */
  portal: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The Supabase URL as the browser reaches it. */
  supabaseUrl: string;
  /** The only key the browser ever gets. Never a service-role key. */
  anonKey: string;
  /** The healthy Content-Security-Policy (prod-like hosting); none when omitted. */
  csp?: string;
  /**
   * Read on every page load: what the deployed portal really is right now (fault switches). A
   * server honours what its app can express (CSP and anon key at the least) and ignores the rest.
   */
  overrides: () => PortalOverrides;
  /** Serve as a production build. */
  production: boolean;
}

export interface ServedPortal {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function appPortalNames(app: StackApp): string[] {
  return app.portals.map((p) => p.name);
}

/** The URL of a portal the team serves itself (`StackAppPortal.url`), else undefined. */
export function teamServedUrl(app: StackApp, portal: string): string | undefined {
  return app.portals.find((p) => p.name === portal)?.url;
}
