import { randomBytes } from 'node:crypto';
import { ensureSeedUsers } from '../../portals/seed-users.ts';
import type { StackApp } from '../app.ts';
import type { Project } from '../project.ts';
import type { Env, Portal } from './cells.ts';
import type { SeedUser } from './deployment.ts';

/**
 * The users the stack gives each portal of the app. Local: the users the app's seed.sql already has
 * (`localSeedUsers`, with their public demo password), and for every other portal with a
 * `seedEmail` a user made now. Prod: every portal with a `seedEmail` gets a user made through the
 * admin API with a password generated now, as a team seeds a hosted project; nothing on disk knows
 * it but the runtime file. Talks to the project's loopback listener, so seeding does not depend on
 * the edge. A portal with neither gets no user here: the matrix seeds its own.
 */
export async function seedAppUsers(
  project: Project,
  app: StackApp,
  env: Env,
): Promise<Record<Portal, SeedUser>> {
  const fromSeedSql = env === 'local' ? (app.localSeedUsers ?? {}) : {};
  const users: Record<Portal, SeedUser> = {};
  const made: { email: string; password: string; appMetadata?: Record<string, unknown>; portal: Portal }[] =
    [];
  for (const portal of app.portals) {
    const existing = fromSeedSql[portal.name];
    if (existing) users[portal.name] = { email: existing.email, password: existing.password };
    else if (portal.seedEmail) {
      made.push({
        portal: portal.name,
        email: portal.seedEmail,
        password: randomBytes(18).toString('base64url'),
        ...(portal.seedAppMetadata ? { appMetadata: { ...portal.seedAppMetadata } } : {}),
      });
    }
  }
  if (made.length) {
    await ensureSeedUsers(
      project.listenUrl,
      project.config.serviceRoleKey,
      made.map(({ portal: _portal, ...user }) => user),
    );
  }
  for (const u of made) users[u.portal] = { email: u.email, password: u.password };
  return users;
}
