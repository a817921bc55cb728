import { cspWithoutSocket } from '../../topology/csp.ts';
import { cellTarget, type FaultDefinition } from '../definition.ts';
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
  async apply(t) {
    const { portal, cell, env, deployment, board } = cellTarget(t);
    // Behind the edge a dead deployment is a 502 from the host; a local dev server simply is not there.
    if (env === 'prod') board.setPortalDown(cell, true);
    else await deployment.portals?.portals[portal].stop();
  },
  async revert(t) {
    const { portal, cell, env, deployment, board } = cellTarget(t);
    if (env === 'prod') board.setPortalDown(cell, false);
    else await deployment.portals?.portals[portal].start();
  },
};

export const cspBlocksSocket: FaultDefinition = {
  name: 'csp-blocks-socket',
  description:
    "the portal is served with a CSP whose connect-src lists the API's http(s) origin but not its ws(s) origin",
  scope: 'cell',
  async apply(t) {
    const { cell, deployment, board } = cellTarget(t);
    board.setOverride(cell, 'csp', cspWithoutSocket(deployment.supabaseUrl));
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.clearOverride(cell, 'csp');
  },
};

export const badApikey: FaultDefinition = {
  name: 'bad-apikey',
  description:
    'the portal is built with an anon key signed by another secret; the upgrade is refused with 401',
  scope: 'cell',
  async apply(t) {
    const { cell, env, board } = cellTarget(t);
    board.setOverride(cell, 'anonKey', await foreignAnonKey(env));
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.clearOverride(cell, 'anonKey');
  },
};

export const sessionNotForwarded: FaultDefinition = {
  name: 'session-not-forwarded',
  description:
    "the portal's realtime client never receives the user's session, so it joins with the anon key",
  scope: 'cell',
  async apply(t) {
    const { cell, board } = cellTarget(t);
    board.setOverride(cell, 'forwardSession', false);
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.clearOverride(cell, 'forwardSession');
  },
};

export const expiredToken: FaultDefinition = {
  name: 'expired-token',
  description:
    'the portal hands realtime an access token for its user, signed by the project, already past exp',
  scope: 'cell',
  async apply(t) {
    const { portal, cell, deployment, board } = cellTarget(t);
    const token = await expiredAccessToken(deployment.project, deployment.users[portal].email);
    board.setOverride(cell, 'staleAccessToken', token);
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.clearOverride(cell, 'staleAccessToken');
  },
};

/** A filter no row the matrix inserts can match: its tickets are `open`. */
export const NEVER_MATCHING_FILTER = 'status=eq.__never__';

export const filterMismatch: FaultDefinition = {
  name: 'filter-mismatch',
  description: `the portal subscribes with the filter ${NEVER_MATCHING_FILTER}, which the inserted row does not match`,
  scope: 'cell',
  async apply(t) {
    const { cell, board } = cellTarget(t);
    board.setOverride(cell, 'filter', NEVER_MATCHING_FILTER);
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.clearOverride(cell, 'filter');
  },
};

export const duplicateSubscription: FaultDefinition = {
  name: 'duplicate-subscription',
  description: 'the portal subscribes to the same topic twice, as retry logic or a re-render does',
  scope: 'cell',
  async apply(t) {
    const { cell, board } = cellTarget(t);
    board.setOverride(cell, 'subscribeTwice', true);
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.clearOverride(cell, 'subscribeTwice');
  },
};
