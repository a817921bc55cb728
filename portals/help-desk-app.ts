import { fileURLToPath } from 'node:url';
import type { PortalServeOptions, ServedPortal, StackApp, StackAppPortal } from '../stack/app.ts';
import { PORTAL_NAMES, type PortalName } from './page.ts';

/** supabase/seed.sql's password for the local users: a public demo value, like the demo keys. */
export const LOCAL_DEMO_PASSWORD = 'helpdesk-demo-password';

export const HELP_DESK_PORTALS = PORTAL_NAMES;
/** The demo's six cells, env by env. */
export const HELP_DESK_CELLS: string[] = ['local', 'prod'].flatMap((env) =>
  HELP_DESK_PORTALS.map((portal) => `${portal}-${env}`),
);

const LOCAL_PORTS: Record<PortalName, number> = { client: 3000, agent: 3001, admin: 3002 };

/**
 * Imported only when a portal starts: the matrix config (and so Playwright's config process) names
 * this app, and must not load the portal server and the stack behind it just to read its shape.
 */
async function serve(options: PortalServeOptions): Promise<ServedPortal> {
  if (!(PORTAL_NAMES as readonly string[]).includes(options.portal)) {
    throw new Error(
      `The help-desk has no portal "${options.portal}" (its portals: ${PORTAL_NAMES.join(', ')}).`,
    );
  }
  const { startPortalServer } = await import('./server.ts');
  return startPortalServer({ ...options, portal: options.portal as PortalName });
}

function portal(name: PortalName): StackAppPortal {
  return {
    name,
    localPort: LOCAL_PORTS[name],
    seedEmail: `${name}@helpdesk.test`,
    // The access token hook copies app_metadata.user_role into the token's user_role claim.
    seedAppMetadata: { user_role: name },
    serve,
  };
}

/** The help-desk demo as the embedded stack deploys it: supabase/, public.tickets, three portals. */
export const HELP_DESK_APP: StackApp = {
  name: 'help-desk',
  supabaseDir: fileURLToPath(new URL('../supabase', import.meta.url)),
  accessTokenHook: 'pg-functions://postgres/public/custom_access_token_hook',
  table: { schema: 'public', name: 'tickets' },
  portals: PORTAL_NAMES.map(portal),
  // supabase/seed.sql makes these three; prod gets them through the admin API with new passwords.
  localSeedUsers: Object.fromEntries(
    PORTAL_NAMES.map((p) => [p, { email: `${p}@helpdesk.test`, password: LOCAL_DEMO_PASSWORD }]),
  ),
  mechanisms: [
    'user-role-hook',
    'select-policy-per-role',
    'forward-session',
    'stale-access-token',
    'filter',
    'subscribe-twice',
  ],
};
