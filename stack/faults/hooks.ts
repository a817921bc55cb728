/**
 * The places where a fault switch acts by its real mechanism (shared/FAILURES.md). Each component
 * reads its hook on every decision, so a fault turned on or off at run time takes effect at once and
 * turning it off restores the healthy path exactly. A cell is identified to the API side by the
 * browser's Origin, which is how a real server would tell the portals apart too.
 */

/** Consulted by the realtime server for each socket, keyed by the upgrade request's Origin. */
export interface RealtimeFaults {
  /** `join-unanswered`: never reply to this origin's `phx_join` (an overloaded or restarting node). */
  ignoreJoins(origin: string | undefined): boolean;
  /** `slow-delivery`: hold this origin's postgres_changes deliveries for this many ms (0 = none). */
  deliveryDelayMs(origin: string | undefined): number;
}

export const NO_REALTIME_FAULTS: RealtimeFaults = {
  ignoreJoins: () => false,
  deliveryDelayMs: () => 0,
};

/**
 * Consulted by a portal's HTTP server on every page load: what the deployed portal really is. Each
 * field changes the served page or its headers, never a flag the matrix reads.
 */
export interface PortalOverrides {
  /** `csp-blocks-socket`: the Content-Security-Policy header to send instead of the healthy one. */
  csp?: string;
  /** `bad-apikey`: the deployment was built with this (stale/wrong) anon key. */
  anonKey?: string;
  /** `session-not-forwarded`: the app never hands its session to realtime. */
  forwardSession?: boolean;
  /** `expired-token`: the app hands realtime this stale (expired) access token. */
  staleAccessToken?: string;
  /** `filter-mismatch`: the app subscribes with this filter. */
  filter?: string;
  /** `duplicate-subscription`: the app subscribes to the same topic twice. */
  subscribeTwice?: boolean;
  /** `broadcast-anon-join`: the app joins its private channel before handing realtime the session. */
  joinBeforeSession?: boolean;
  /** `broadcast-not-private`: the app joins its broadcast topic with this `private` flag. */
  privateChannel?: boolean;
}

/** Consulted by the prod-like HTTPS edge on every request and upgrade. */
export interface EdgeFaults {
  /** `portal-down`: answer this portal host with 502, as a host whose deployment is gone. */
  portalDown(host: string): boolean;
  /** `edge-drops-upgrade`: strip `Upgrade` from this origin's socket requests, like a misconfigured proxy. */
  dropsUpgrade(origin: string | undefined): boolean;
}

export const NO_EDGE_FAULTS: EdgeFaults = {
  portalDown: () => false,
  dropsUpgrade: () => false,
};
