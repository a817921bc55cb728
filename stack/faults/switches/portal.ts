import type { AppMechanism } from '../../app.ts';
import { cspWithoutSocket } from '../../topology/csp.ts';
import { seededUser } from '../../topology/deployment.ts';
import { type CellTarget, cellTarget, type FaultDefinition } from '../definition.ts';
import type { PortalOverrides } from '../hooks.ts';
import { expiredAccessToken, foreignAnonKey } from '../tokens.ts';

/**
 * Faults in what a portal deployment serves. Each one changes the page (its headers or the config
 * the app boots with) through `PortalOverrides`, read by the portal server on every load.
 */

export const portalDown: FaultDefinition = {
  name: 'portal-down',
  description:
    'the portal deployment is gone: prod — the edge answers its host with 502; local — the dev server stops listening (connection refused)',
  scope: 'cell',
  needsPortals: true,
  servedPortal: true,
  async apply(t) {
    const { portal, cell, env, deployment, board } = cellTarget(t);
    // Behind the edge a dead deployment is a 502 from the host; a local dev server simply is not there.
    if (env === 'prod') board.setPortalDown(cell, true);
    else await deployment.portals?.portals[portal]?.stop();
  },
  async revert(t) {
    const { portal, cell, env, deployment, board } = cellTarget(t);
    if (env === 'prod') board.setPortalDown(cell, false);
    else await deployment.portals?.portals[portal]?.start();
  },
};

/**
 * A fault that is one field of what the portal deployment serves: on sets the override (computed per
 * cell, e.g. a token for that portal's user), off removes it so the healthy page is served again.
 */
export function overrideFault<K extends keyof PortalOverrides>(
  name: string,
  description: string,
  key: K,
  value: (target: CellTarget) => PortalOverrides[K] | Promise<PortalOverrides[K]>,
  needs?: AppMechanism,
): FaultDefinition {
  return {
    name,
    description,
    scope: 'cell',
    servedPortal: true,
    ...(needs ? { needs } : {}),
    async apply(t) {
      const target = cellTarget(t);
      target.board.setOverride(target.cell, key, await value(target));
    },
    async revert(t) {
      const { cell, board } = cellTarget(t);
      board.clearOverride(cell, key);
    },
  };
}

export const cspBlocksSocket = overrideFault(
  'csp-blocks-socket',
  "the portal is served with a CSP whose connect-src lists the API's http(s) origin but not its ws(s) origin",
  'csp',
  ({ deployment }) => cspWithoutSocket(deployment.supabaseUrl),
);

export const badApikey = overrideFault(
  'bad-apikey',
  'the portal is built with an anon key signed by another secret; the upgrade is refused with 401',
  'anonKey',
  ({ env }) => foreignAnonKey(env),
);

export const sessionNotForwarded = overrideFault(
  'session-not-forwarded',
  "the portal's realtime client never receives the user's session, so it joins with the anon key",
  'forwardSession',
  () => false,
  'forward-session',
);

export const expiredToken = overrideFault(
  'expired-token',
  'the portal hands realtime an access token for its user, signed by the project, already past exp',
  'staleAccessToken',
  ({ portal, deployment }) => expiredAccessToken(deployment.project, seededUser(deployment, portal).email),
  'stale-access-token',
);

/** A filter no row the matrix inserts can match: its tickets are `open`. */
export const NEVER_MATCHING_FILTER = 'status=eq.__never__';

export const filterMismatch = overrideFault(
  'filter-mismatch',
  `the portal subscribes with the filter ${NEVER_MATCHING_FILTER}, which the inserted row does not match`,
  'filter',
  () => NEVER_MATCHING_FILTER,
  'filter',
);

export const duplicateSubscription = overrideFault(
  'duplicate-subscription',
  'the portal subscribes to the same topic twice, as retry logic or a re-render does',
  'subscribeTwice',
  () => true,
  'subscribe-twice',
);
