import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import type { ProjectContext } from '../context.ts';
import { requireAdmin } from './credentials.ts';
import { parseGoDuration } from './duration.ts';
import { badRequest, internal, notFound, unprocessable } from './errors.ts';
import { checkPasswordStrength, hashPassword } from './passwords.ts';
import {
  boolParam,
  objectParam,
  readParams,
  requestAud,
  stringParam,
  validEmail,
  validPhone,
} from './request.ts';
import { endSessions } from './sessions.ts';
import { transaction } from './sql.ts';
import type { UserRow } from './user-json.ts';
import {
  emailTaken,
  findUserById,
  mergeMetadataSql,
  NIL_INSTANCE,
  phoneTaken,
  toJson,
  type User,
} from './users.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DUPLICATE_EMAIL = 'A user with this email address has already been registered';

/** ban_duration: "none" lifts a ban, a Go duration sets banned_until = now + duration. */
function banDuration(params: Record<string, unknown>): number | undefined {
  const text = stringParam(params, 'ban_duration');
  if (!text) return undefined;
  if (text === 'none') return 0;
  try {
    return parseGoDuration(text);
  } catch (cause) {
    throw badRequest(
      'validation_failed',
      `invalid format for ban duration: ${(cause as Error).message}`,
      cause,
    );
  }
}

async function applyBan(client: pg.PoolClient, userId: string, ms: number) {
  await client.query(
    `update auth.users set banned_until = case when $2::float8 = 0 then null
       else now() + make_interval(secs => $2::float8 / 1000) end, updated_at = now() where id = $1`,
    [userId, ms],
  );
}

/** The identity GoTrue creates for a provider (createNewIdentity with provider.Claims). */
async function addIdentity(
  client: pg.PoolClient,
  userId: string,
  provider: 'email' | 'phone',
  value: string,
) {
  const data =
    provider === 'email'
      ? { sub: userId, email: value, email_verified: false, phone_verified: false }
      : { sub: userId, phone: value, email_verified: false, phone_verified: false };
  await client.query(
    `insert into auth.identities (id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
     values ($1, $2, $3, $4, $5, now(), now(), now())`,
    [randomUUID(), userId, userId, JSON.stringify(data), provider],
  );
}

/** User.Confirm: the email is confirmed and user_metadata says so. */
async function confirmEmail(client: pg.PoolClient, userId: string) {
  await client.query(
    `update auth.users set confirmation_token = '', email_confirmed_at = now(),
       ${mergeMetadataSql('raw_user_meta_data', '$2')}, updated_at = now() where id = $1`,
    [userId, JSON.stringify({ email_verified: true })],
  );
}

async function confirmPhone(client: pg.PoolClient, userId: string) {
  await client.query(
    `update auth.users set confirmation_token = '', phone_confirmed_at = now(), updated_at = now() where id = $1`,
    [userId],
  );
}

/** POST /admin/users (GoTrue adminUserCreate): 200 with the bare user. */
export async function createUser(ctx: ProjectContext, req: IncomingMessage, url: URL) {
  await requireAdmin(ctx, req, url);
  const params = await readParams(req);
  const aud = stringParam(params, 'aud') || requestAud(req);
  const rawEmail = stringParam(params, 'email') ?? '';
  const rawPhone = stringParam(params, 'phone') ?? '';
  if (!rawEmail && !rawPhone) {
    throw badRequest('validation_failed', 'Cannot create a user without either an email or phone');
  }
  const providers: ('email' | 'phone')[] = [];
  const email = rawEmail ? validEmail(rawEmail) : '';
  if (email) {
    if (await emailTaken(ctx.db.admin, email, aud)) throw unprocessable('email_exists', DUPLICATE_EMAIL);
    providers.push('email');
  }
  const phone = rawPhone ? validPhone(rawPhone) : '';
  if (phone) {
    if (await phoneTaken(ctx.db.admin, phone, aud)) {
      throw unprocessable('phone_exists', 'Phone number already registered by another user');
    }
    providers.push('phone');
  }
  const password = stringParam(params, 'password');
  const passwordHash = stringParam(params, 'password_hash') ?? '';
  if (password !== undefined && passwordHash) {
    throw badRequest('validation_failed', 'Only a password or a password hash should be provided');
  }
  if (password && password.length > 72) {
    throw badRequest('validation_failed', 'bcrypt: password length exceeds 72 bytes');
  }
  if (passwordHash && !/^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(passwordHash)) {
    throw internal('Error creating user', new Error('password_hash is not a bcrypt hash'));
  }
  let id: string = randomUUID();
  const requestedId = stringParam(params, 'id');
  if (requestedId) {
    if (!UUID.test(requestedId))
      throw badRequest('validation_failed', 'ID must conform to the uuid v4 format');
    if (requestedId === NIL_INSTANCE) throw badRequest('validation_failed', 'ID cannot be a nil uuid');
    id = requestedId.toLowerCase();
  }
  const ban = banDuration(params);
  const appMetadata = objectParam(params, 'app_metadata');
  const userMetadata = objectParam(params, 'user_metadata') ?? {};
  // No password given: GoTrue sets a random 64-character one, so the account exists but cannot sign in with it.
  const hash =
    passwordHash || (await hashPassword(ctx.db.admin, password || randomBytes(48).toString('base64')));

  try {
    await transaction(ctx.db.admin, async (client) => {
      await client.query(
        `insert into auth.users (instance_id, id, aud, role, email, phone, encrypted_password,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at, confirmation_token,
           recovery_token, email_change_token_new, email_change, is_sso_user, is_anonymous)
         values ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''), $7, $8, $9, now(), now(), '', '', '', '', false, false)`,
        [
          NIL_INSTANCE,
          id,
          aud,
          stringParam(params, 'role') || 'authenticated',
          email,
          phone,
          hash,
          JSON.stringify({ provider: providers[0], providers }),
          JSON.stringify(userMetadata),
        ],
      );
      for (const provider of providers)
        await addIdentity(client, id, provider, provider === 'email' ? email : phone);
      if (appMetadata) {
        await client.query(
          `update auth.users set ${mergeMetadataSql('raw_app_meta_data', '$2')} where id = $1`,
          [id, JSON.stringify(appMetadata)],
        );
      }
      if (boolParam(params, 'email_confirm')) await confirmEmail(client, id);
      if (boolParam(params, 'phone_confirm')) await confirmPhone(client, id);
      if (ban !== undefined) await applyBan(client, id, ban);
    });
  } catch (cause) {
    throw internal('Database error creating new user', cause);
  }
  return toJson(await mustFind(ctx, id));
}

async function mustFind(ctx: ProjectContext, id: string): Promise<User> {
  const user = await findUserById(ctx.db.admin, id);
  if (!user) throw notFound('user_not_found', 'User not found');
  return user;
}

/** The `{user_id}` path segment, as GoTrue's loadUser checks it. */
async function loadUser(ctx: ProjectContext, id: string): Promise<User> {
  if (!UUID.test(id)) throw notFound('validation_failed', 'user_id must be an UUID');
  return mustFind(ctx, id.toLowerCase());
}

/** GET /admin/users/{id}. */
export async function getUserById(ctx: ProjectContext, req: IncomingMessage, url: URL, id: string) {
  await requireAdmin(ctx, req, url);
  return toJson(await loadUser(ctx, id));
}

/** PUT /admin/users/{id} (GoTrue adminUserUpdate). */
export async function updateUserById(ctx: ProjectContext, req: IncomingMessage, url: URL, id: string) {
  await requireAdmin(ctx, req, url);
  const user = (await loadUser(ctx, id)).row;
  const params = await readParams(req);
  const rawEmail = stringParam(params, 'email');
  const email = rawEmail ? validEmail(rawEmail) : undefined;
  const rawPhone = stringParam(params, 'phone');
  const phone = rawPhone ? validPhone(rawPhone) : undefined;
  const ban = banDuration(params);
  const password = stringParam(params, 'password');
  let hash: string | null | undefined;
  if (password !== undefined) {
    checkPasswordStrength(password);
    hash = password === '' ? null : await hashPassword(ctx.db.admin, password);
  }
  const role = stringParam(params, 'role');
  const appMetadata = objectParam(params, 'app_metadata');
  const userMetadata = objectParam(params, 'user_metadata');

  try {
    await transaction(ctx.db.admin, async (client) => {
      if (role)
        await client.query('update auth.users set role = $2, updated_at = now() where id = $1', [
          user.id,
          role.trim(),
        ]);
      if (boolParam(params, 'email_confirm')) await confirmEmail(client, user.id);
      if (boolParam(params, 'phone_confirm')) await confirmPhone(client, user.id);
      if (hash !== undefined) {
        await client.query(
          'update auth.users set encrypted_password = $2, updated_at = now() where id = $1',
          [user.id, hash],
        );
        // An admin password change signs the user out everywhere (User.UpdatePassword with no session).
        await endSessions(client, user.id, undefined, 'global');
      }
      if (email) await setContact(client, user, 'email', email, boolParam(params, 'email_confirm'));
      if (phone) await setContact(client, user, 'phone', phone, boolParam(params, 'phone_confirm'));
      if (appMetadata) {
        await client.query(
          `update auth.users set ${mergeMetadataSql('raw_app_meta_data', '$2')}, updated_at = now() where id = $1`,
          [user.id, JSON.stringify(appMetadata)],
        );
      }
      if (userMetadata) {
        await client.query(
          `update auth.users set ${mergeMetadataSql('raw_user_meta_data', '$2')}, updated_at = now() where id = $1`,
          [user.id, JSON.stringify(userMetadata)],
        );
      }
      if (ban !== undefined) await applyBan(client, user.id, ban);
    });
  } catch (cause) {
    throw internal('Error updating user', cause);
  }
  return toJson(await mustFind(ctx, user.id));
}

/** An admin sets email/phone directly: the provider identity is updated, or created if missing. */
async function setContact(
  client: pg.PoolClient,
  user: UserRow,
  provider: 'email' | 'phone',
  value: string,
  confirmed: boolean,
) {
  const updated = await client.query(
    `update auth.identities set identity_data = identity_data || $3::jsonb, updated_at = now()
      where user_id = $1 and provider = $2`,
    [user.id, provider, JSON.stringify({ [provider]: value, [`${provider}_verified`]: confirmed })],
  );
  if (updated.rowCount === 0) await addIdentity(client, user.id, provider, value);
  await client.query(
    `update auth.users set ${provider} = $2, is_anonymous = is_anonymous and not $3, updated_at = now() where id = $1`,
    [user.id, value, confirmed],
  );
}

/** DELETE /admin/users/{id}: 200 `{}`; `should_soft_delete` keeps an anonymised row instead. */
export async function deleteUserById(ctx: ProjectContext, req: IncomingMessage, url: URL, id: string) {
  await requireAdmin(ctx, req, url);
  const user = (await loadUser(ctx, id)).row;
  const params = await readParams(req, { optional: true });
  try {
    if (params['should_soft_delete'] === true) {
      if (user.deleted_at) return {};
      await transaction(ctx.db.admin, async (client) => {
        await client.query(
          `update auth.users set email = null, phone = null, email_change = '', phone_change = '',
             encrypted_password = '', confirmation_token = '', recovery_token = '',
             raw_app_meta_data = '{}', raw_user_meta_data = '{}', deleted_at = now(), updated_at = now()
           where id = $1`,
          [user.id],
        );
        await client.query(
          `update auth.identities set identity_data = '{}', updated_at = now() where user_id = $1`,
          [user.id],
        );
        await endSessions(client, user.id, undefined, 'global');
      });
    } else {
      await ctx.db.admin.query('delete from auth.users where id = $1', [user.id]);
    }
  } catch (cause) {
    throw internal('Database error deleting user', cause);
  }
  return {};
}
