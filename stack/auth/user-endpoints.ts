import type { IncomingMessage } from 'node:http';
import type { ProjectContext } from '../context.ts';
import { requireUser } from './credentials.ts';
import { badRequest, forbidden, internal, unprocessable } from './errors.ts';
import { checkPasswordStrength, hashPassword, passwordMatches } from './passwords.ts';
import { objectParam, readParams, stringParam, validEmail, validPhone } from './request.ts';
import { endSessions, type LogoutScope } from './sessions.ts';
import { transaction } from './sql.ts';
import { emailTaken, findUserById, mergeMetadataSql, phoneTaken, toJson } from './users.ts';

/** GET /user (GoTrue UserGet): the bare user object of the token's `sub`. */
export async function getUser(ctx: ProjectContext, req: IncomingMessage, url: URL) {
  const caller = await requireUser(ctx, req, url);
  const claimsAud = caller.claims.aud;
  const tokenAud = Array.isArray(claimsAud) ? claimsAud[0] : claimsAud;
  const header = req.headers['x-jwt-aud'];
  const aud = (Array.isArray(header) ? header[0] : header) || tokenAud;
  if (!tokenAud || aud !== tokenAud) {
    throw badRequest('validation_failed', "Token audience doesn't match request audience");
  }
  return toJson(caller.user);
}

/**
 * PUT /user (GoTrue UserUpdate), what `supabase.auth.updateUser` sends: `data` merges into
 * user_metadata, `password` replaces the hash and ends the user's other sessions, `email`/`phone`
 * become a pending change (`new_email`/`new_phone`) awaiting confirmation, as with secure email change.
 */
export async function updateUser(ctx: ProjectContext, req: IncomingMessage, url: URL) {
  const caller = await requireUser(ctx, req, url);
  const params = await readParams(req);
  const user = caller.user.row;
  const rawEmail = stringParam(params, 'email');
  const email = rawEmail ? validEmail(rawEmail) : undefined;
  const rawPhone = stringParam(params, 'phone');
  const phone = rawPhone ? validPhone(rawPhone) : undefined;
  const password = params['password'] === null ? undefined : stringParam(params, 'password');
  const data = objectParam(params, 'data');
  if (password !== undefined) checkPasswordStrength(password);
  if (objectParam(params, 'app_metadata') !== undefined) {
    throw forbidden('not_admin', 'Updating app_metadata requires admin privileges');
  }
  const aud = user.aud ?? 'authenticated';
  if (email && email !== user.email && (await emailTaken(ctx.db.admin, email, aud, user.id))) {
    throw unprocessable('email_exists', 'A user with this email address has already been registered');
  }
  if (phone && phone !== user.phone && (await phoneTaken(ctx.db.admin, phone, aud, user.id))) {
    throw unprocessable('phone_exists', 'A user with this phone number has already been registered');
  }
  let hash: string | null | undefined;
  if (password !== undefined) {
    if (password !== '' && (await passwordMatches(ctx.db.admin, user.encrypted_password, password))) {
      throw unprocessable('same_password', 'New password should be different from the old password.');
    }
    hash = password === '' ? null : await hashPassword(ctx.db.admin, password);
  }

  try {
    await transaction(ctx.db.admin, async (client) => {
      if (hash !== undefined) {
        await client.query(
          `update auth.users set encrypted_password = $2, confirmation_token = '', confirmation_sent_at = null,
             recovery_token = '', recovery_sent_at = null, email_change_token_current = '',
             email_change_token_new = '', email_change_sent_at = null, phone_change_token = '',
             phone_change_sent_at = null, reauthentication_token = '', reauthentication_sent_at = null,
             updated_at = now()
           where id = $1`,
          [user.id, hash],
        );
        // A new password means the old one may be compromised: every other session ends.
        await endSessions(client, user.id, caller.sessionId, caller.sessionId ? 'others' : 'global');
      }
      if (data) {
        await client.query(
          `update auth.users set ${mergeMetadataSql('raw_user_meta_data', '$2')}, updated_at = now() where id = $1`,
          [user.id, JSON.stringify(data)],
        );
      }
      if (email && email !== user.email) {
        await client.query(
          'update auth.users set email_change = $2, email_change_sent_at = now(), updated_at = now() where id = $1',
          [user.id, email],
        );
      }
      if (phone && phone !== user.phone) {
        await client.query(
          'update auth.users set phone_change = $2, phone_change_sent_at = now(), updated_at = now() where id = $1',
          [user.id, phone],
        );
      }
    });
  } catch (cause) {
    throw internal('Error updating user', cause);
  }
  const updated = await findUserById(ctx.db.admin, user.id);
  if (!updated) throw internal(`User ${user.id} disappeared while being updated`);
  return toJson(updated);
}

/** POST /logout?scope= (GoTrue Logout): ends sessions; their refresh tokens go with them. */
export async function logout(ctx: ProjectContext, req: IncomingMessage, url: URL): Promise<void> {
  const caller = await requireUser(ctx, req, url);
  const requested = url.searchParams.get('scope') ?? '';
  const scope: LogoutScope | undefined =
    requested === '' || requested === 'global'
      ? 'global'
      : requested === 'local' || requested === 'others'
        ? requested
        : undefined;
  if (!scope) throw badRequest('validation_failed', `Unsupported logout scope "${requested}"`);
  try {
    await endSessions(ctx.db.admin, caller.user.row.id, caller.sessionId, scope);
  } catch (cause) {
    throw internal('Error logging out user', cause);
  }
}
