import { randomBytes } from 'node:crypto';
import { ensureSeedUsers } from '../../portals/seed-users.ts';
import type { Project } from '../project.ts';
import { PORTALS, type Portal } from './cells.ts';
import type { SeedUser } from './deployment.ts';

/** supabase/seed.sql's password for the local users: a public demo value, like the demo keys. */
export const LOCAL_DEMO_PASSWORD = 'helpdesk-demo-password';

export function seedEmail(portal: Portal): string {
  return `${portal}@helpdesk.test`;
}

/** The local project's users come from supabase/seed.sql, with the demo password. */
export function localUsers(): Record<Portal, SeedUser> {
  return Object.fromEntries(
    PORTALS.map((p) => [p, { email: seedEmail(p), password: LOCAL_DEMO_PASSWORD }]),
  ) as Record<Portal, SeedUser>;
}

/**
 * The prod-like project's users, created (or brought up to date) through its admin API with
 * passwords made now, as a team seeds a hosted project; nothing on disk knows them but the
 * runtime file. Talks to the project's loopback listener, so seeding does not depend on the edge.
 */
export async function seedProdUsers(project: Project): Promise<Record<Portal, SeedUser>> {
  const users = PORTALS.map((portal) => ({
    role: portal,
    email: seedEmail(portal),
    password: randomBytes(18).toString('base64url'),
  }));
  await ensureSeedUsers(project.listenUrl, project.config.serviceRoleKey, users);
  return Object.fromEntries(users.map((u) => [u.role, { email: u.email, password: u.password }])) as Record<
    Portal,
    SeedUser
  >;
}
