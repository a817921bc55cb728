import type { StackApp } from '../app.ts';
import { LOCAL_API_PORT, LOCAL_DB_PORT, PROD_EDGE_PORT } from '../config.ts';

/**
 * The fixed ports of `npm run stack` and the matrix (those of `supabase start`, plus the edge); each
 * portal's dev server port comes from its app (`StackAppPortal.localPort`). The project's own tests
 * pass free ports for every one of them.
 */
export const DEFAULT_PORTS = {
  db: LOCAL_DB_PORT,
  localApi: LOCAL_API_PORT,
  edge: PROD_EDGE_PORT,
};

/** The app's local dev server ports, by portal. */
export function localPortalPorts(app: StackApp): Record<string, number> {
  return Object.fromEntries(app.portals.map((p) => [p.name, p.localPort]));
}
