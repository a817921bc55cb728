import { randomBytes, randomUUID } from 'node:crypto';
import { JwtKeys } from '../jwt.ts';
import type { Project } from '../project.ts';

/**
 * An anon key as a deployment built against a rotated or wrong project would carry: right shape,
 * signed with a secret this project never had, so the upgrade is refused on the signature.
 */
export async function foreignAnonKey(projectRef: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new JwtKeys(randomBytes(32).toString('base64url')).sign({
    iss: 'supabase',
    ref: projectRef,
    role: 'anon',
    iat,
    exp: iat + 10 * 365 * 86400,
  });
}

/**
 * A real access token for `email`, signed with the project's own secret and GoTrue's claim set
 * (PROTOCOL.md §3.9, with the hook's user_role), whose `exp` has already passed: what an app holding
 * on to an old session hands realtime.
 */
export async function expiredAccessToken(
  project: Project,
  email: string,
  expiredSecondsAgo = 600,
): Promise<string> {
  const { rows } = await project.ctx.db.admin.query<{
    id: string;
    app: Record<string, unknown> | null;
    meta: Record<string, unknown> | null;
  }>('select id, raw_app_meta_data as app, raw_user_meta_data as meta from auth.users where email = $1', [
    email,
  ]);
  const user = rows[0];
  if (!user) {
    throw new Error(
      `Cannot mint an expired token for ${email} on project "${project.config.name}": no such user in auth.users. ` +
        'Seed the users first (the stack does this at boot).',
    );
  }
  const exp = Math.floor(Date.now() / 1000) - expiredSecondsAgo;
  const iat = exp - project.config.jwtExpiry;
  return project.ctx.jwt.sign({
    iss: project.config.issuer,
    sub: user.id,
    aud: 'authenticated',
    exp,
    iat,
    email,
    phone: '',
    app_metadata: user.app ?? {},
    user_metadata: user.meta ?? {},
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: iat }],
    session_id: randomUUID(),
    is_anonymous: false,
    user_role: user.app?.['user_role'] ?? null,
  });
}
