import { defineMatrix } from 'realtime-matrix';
import { HELP_DESK_APP } from './portals/help-desk-app.ts';

/**
 * The help-desk demo as the matrix sees it: three portals that sign in through a form, a `tickets`
 * table with a uuid key, and a row per portal that its user's RLS policy lets through. Everything the
 * matrix knows about this app is here; a team's own app gets a file like it (RTM_CONFIG=<path>).
 */
const byTestId = (id: string) => (page: import('@playwright/test').Page) => page.getByTestId(id);

/** The dashboard shows the user's email once the session is known; /unauthorized when the role is wrong. */
const signedIn = { url: /\/dashboard$/, locator: byTestId('signed-in-as') };
const rejected = { url: /\/unauthorized$/, locator: byTestId('unauthorized') };
const shows = (page: import('@playwright/test').Page, row: Record<string, unknown>) =>
  page.getByTestId('ticket-row').and(page.locator(`[data-ticket-id="${String(row['id'])}"]`));

const portal = (name: 'client' | 'agent' | 'admin', extra: { realtimeStatus?: boolean } = {}) => ({
  urlKey: `PORTAL_${name.toUpperCase()}_URL`,
  user: {
    emailKey: `USER_${name.toUpperCase()}_EMAIL`,
    passwordVarKey: `USER_${name.toUpperCase()}_PASSWORD_VAR`,
    // The access token hook copies app_metadata.user_role into the token's user_role claim.
    appMetadata: { user_role: name },
  },
  // The form has labelled Email and Password fields and a "Sign in" button: the defaults find them.
  signIn: { strategy: 'ui' as const, path: '/login' },
  signedIn,
  signedInAs: byTestId('signed-in-as'),
  rejected,
  requiredClaims: { user_role: name },
  shows,
  ...(extra.realtimeStatus ? { realtimeStatus: byTestId('realtime-status') } : {}),
});

export default defineMatrix({
  name: 'help-desk',
  table: {
    schema: 'public',
    name: 'tickets',
    primaryKey: ['id'],
    tagColumn: 'title',
    createdAtColumn: 'created_at',
  },
  // Visible to the portal's user under the help-desk's RLS: clients see what they created, agents
  // what is assigned to them, admins everything.
  row: ({ user, portal, env, runTag, label }) => ({
    title: `${runTag} ${portal}-${env} ${label}`,
    created_by: user.id,
    assigned_to: portal === 'agent' ? user.id : null,
    priority: 'normal',
  }),
  portals: {
    client: portal('client', { realtimeStatus: true }),
    agent: portal('agent', { realtimeStatus: true }),
    admin: portal('admin'),
  },
  embedded: HELP_DESK_APP,
});
