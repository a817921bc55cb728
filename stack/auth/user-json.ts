import { rfc3339 } from './sql.ts';

/** One auth.users row as selected by USER_COLUMNS (timestamps as Postgres text). */
export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: string | null;
  invited_at: string | null;
  phone: string | null;
  phone_confirmed_at: string | null;
  confirmation_sent_at: string | null;
  confirmed_at: string | null;
  recovery_sent_at: string | null;
  email_change: string | null;
  email_change_sent_at: string | null;
  phone_change: string | null;
  phone_change_sent_at: string | null;
  reauthentication_sent_at: string | null;
  last_sign_in_at: string | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: string | null;
  updated_at: string | null;
  banned_until: string | null;
  deleted_at: string | null;
  is_anonymous: boolean;
}

export interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown> | null;
  provider: string;
  last_sign_in_at: string | null;
  created_at: string | null;
  updated_at: string | null;
  email: string | null;
}

export const USER_COLUMNS = `u.id, u.aud, u.role, u.email, u.encrypted_password, u.email_confirmed_at,
  u.invited_at, u.phone, u.phone_confirmed_at, u.confirmation_sent_at, u.confirmed_at,
  u.recovery_sent_at, u.email_change, u.email_change_sent_at, u.phone_change, u.phone_change_sent_at,
  u.reauthentication_sent_at, u.last_sign_in_at, u.raw_app_meta_data, u.raw_user_meta_data,
  u.created_at, u.updated_at, u.banned_until, u.deleted_at, u.is_anonymous`;

// Go's zero time, which GoTrue sends for a NOT NULL timestamp it never set.
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The user object exactly as GoTrue's models.User marshals it (field order, `omitempty` fields
 * left out, `phone`/`email` as "" when NULL). Never carries the password hash or any token.
 */
export function userJson(user: UserRow, identities: IdentityRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: user.id,
    aud: user.aud ?? '',
    role: user.role ?? '',
    email: user.email ?? '',
  };
  const optional = (key: string, value: string | undefined) => {
    if (value) out[key] = value;
  };
  optional('email_confirmed_at', rfc3339(user.email_confirmed_at));
  optional('invited_at', rfc3339(user.invited_at));
  out['phone'] = user.phone ?? '';
  optional('phone_confirmed_at', rfc3339(user.phone_confirmed_at));
  optional('confirmation_sent_at', rfc3339(user.confirmation_sent_at));
  optional('confirmed_at', rfc3339(user.confirmed_at));
  optional('recovery_sent_at', rfc3339(user.recovery_sent_at));
  optional('new_email', user.email_change ?? undefined);
  optional('email_change_sent_at', rfc3339(user.email_change_sent_at));
  optional('new_phone', user.phone_change ?? undefined);
  optional('phone_change_sent_at', rfc3339(user.phone_change_sent_at));
  optional('reauthentication_sent_at', rfc3339(user.reauthentication_sent_at));
  optional('last_sign_in_at', rfc3339(user.last_sign_in_at));
  out['app_metadata'] = user.raw_app_meta_data ?? null;
  out['user_metadata'] = user.raw_user_meta_data ?? null;
  out['identities'] = identities.map(identityJson);
  out['created_at'] = rfc3339(user.created_at) ?? GO_ZERO_TIME;
  out['updated_at'] = rfc3339(user.updated_at) ?? GO_ZERO_TIME;
  optional('banned_until', rfc3339(user.banned_until));
  optional('deleted_at', rfc3339(user.deleted_at));
  out['is_anonymous'] = user.is_anonymous;
  return out;
}

function identityJson(identity: IdentityRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    identity_id: identity.id,
    id: identity.provider_id,
    user_id: identity.user_id,
  };
  if (identity.identity_data && Object.keys(identity.identity_data).length > 0) {
    out['identity_data'] = identity.identity_data;
  }
  out['provider'] = identity.provider;
  const lastSignIn = rfc3339(identity.last_sign_in_at);
  if (lastSignIn) out['last_sign_in_at'] = lastSignIn;
  out['created_at'] = rfc3339(identity.created_at) ?? GO_ZERO_TIME;
  out['updated_at'] = rfc3339(identity.updated_at) ?? GO_ZERO_TIME;
  if (identity.email) out['email'] = identity.email;
  return out;
}
