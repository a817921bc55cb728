import { LOCAL_API_PORT, LOCAL_DB_PORT, PROD_EDGE_PORT } from '../config.ts';
import type { Portal } from './cells.ts';

/**
 * The fixed ports of `npm run stack` and the matrix (those of `supabase start`, plus the portals'
 * dev servers and the edge). The project's own tests pass free ports for every one of them.
 */
export const DEFAULT_PORTS = {
  db: LOCAL_DB_PORT,
  localApi: LOCAL_API_PORT,
  edge: PROD_EDGE_PORT,
  localPortals: { client: 3000, agent: 3001, admin: 3002 } as Readonly<Record<Portal, number>>,
};
