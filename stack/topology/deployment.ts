import type { StackApp } from '../app.ts';
import type { Project } from '../project.ts';
import type { Env, Portal } from './cells.ts';
import type { PortalFleet } from './portals.ts';

export interface SeedUser {
  email: string;
  password: string;
}

/**
 * One environment as it is deployed: its Supabase-compatible project and, when started, the app's
 * portals. Fault switches act on these handles; the runtime file is written from them.
 */
export interface Deployment {
  env: Env;
  /** The app deployed here (the same one in every env of a stack). */
  app: StackApp;
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
  /** The users the stack seeded, by portal; a portal may have none (the matrix seeds its own). */
  users: Record<Portal, SeedUser>;
}

/** The Origin of one of this deployment's portals; throws naming the app's portals otherwise. */
export function portalOrigin(d: Deployment, portal: Portal): string {
  const origin = d.origins[portal];
  if (origin === undefined) throw unknownPortal(d, portal);
  return origin;
}

/** The user the stack seeded for a portal; throws when it seeded none. */
export function seededUser(d: Deployment, portal: Portal): SeedUser {
  const user = d.users[portal];
  if (!user) {
    throw new Error(
      `The ${d.env} deployment of app "${d.app.name}" seeded no user for portal "${portal}" ` +
        `(seeded: ${Object.keys(d.users).join(', ') || 'none'}); give the portal a seedEmail in its StackApp.`,
    );
  }
  return user;
}

function unknownPortal(d: Deployment, portal: Portal): Error {
  return new Error(
    `App "${d.app.name}" has no portal "${portal}" (its portals: ${d.app.portals.map((p) => p.name).join(', ')}).`,
  );
}
