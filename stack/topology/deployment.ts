import type { Project } from '../project.ts';
import type { Env, Portal } from './cells.ts';
import type { PortalFleet } from './portals.ts';

export interface SeedUser {
  email: string;
  password: string;
}

/**
 * One environment as it is deployed: its Supabase-compatible project and, when started, its three
 * portals. Fault switches act on these handles; the runtime file is written from them.
 */
export interface Deployment {
  env: Env;
  project: Project;
  /** The URL browsers and supabase-js use for this env's API (through the edge for prod). */
  supabaseUrl: string;
  /** The Origin each portal's pages send, which is how the API side tells the cells apart. */
  origins: Record<Portal, string>;
  /** The healthy CSP the portals are served with (prod-like hosting); undefined = none (dev server). */
  csp: string | undefined;
  /** The project's healthy origin allow-list (undefined = any origin), restored when faults end. */
  healthyAllowedOrigins: readonly string[] | undefined;
  portals: PortalFleet | undefined;
  users: Record<Portal, SeedUser>;
}
