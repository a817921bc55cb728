import { type Queryable, query, rfc3339 } from './sql.ts';
import { type IdentityRow, USER_COLUMNS, type UserRow, userJson } from './user-json.ts';

/**
 * GoTrue scopes every lookup to the nil instance (models.FindUserBy*): rows a seed writes without
 * `instance_id = '00000000-0000-0000-0000-000000000000'` are invisible to it, here as on hosted.
 */
export const NIL_INSTANCE = '00000000-0000-0000-0000-000000000000';

export interface User {
  row: UserRow;
  identities: IdentityRow[];
}

export function toJson(user: User): Record<string, unknown> {
  return userJson(user.row, user.identities);
}

export function isBanned(row: UserRow, now: Date = new Date()): boolean {
  const until = rfc3339(row.banned_until);
  return until !== undefined && new Date(until).getTime() > now.getTime();
}

async function findOne(db: Queryable, where: string, values: unknown[]): Promise<User | undefined> {
  const [row] = await query<UserRow>(
    db,
    `select ${USER_COLUMNS} from auth.users u where u.instance_id = '${NIL_INSTANCE}' and ${where} limit 1`,
    values,
  );
  if (!row) return undefined;
  return { row, identities: await identitiesOf(db, row.id) };
}

export function findUserById(db: Queryable, id: string): Promise<User | undefined> {
  return findOne(db, 'u.id = $1', [id]);
}

export function findUserByEmail(db: Queryable, email: string, aud: string): Promise<User | undefined> {
  return findOne(db, 'lower(u.email) = lower($1) and u.aud = $2 and u.is_sso_user = false', [email, aud]);
}

export function findUserByPhone(db: Queryable, phone: string, aud: string): Promise<User | undefined> {
  return findOne(db, 'u.phone = $1 and u.aud = $2 and u.is_sso_user = false', [phone, aud]);
}

export async function identitiesOf(db: Queryable, userId: string): Promise<IdentityRow[]> {
  return query<IdentityRow>(
    db,
    `select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at, email
       from auth.identities where user_id = $1 order by created_at, id`,
    [userId],
  );
}

/** models.IsDuplicatedEmail: another user already owns this email (as an identity or as the user's email). */
export async function emailTaken(db: Queryable, email: string, aud: string, exceptUserId?: string) {
  const rows = await query<{ id: string }>(
    db,
    `select u.id from auth.users u
      where u.instance_id = '${NIL_INSTANCE}' and u.aud = $2 and u.is_sso_user = false
        and ($3::uuid is null or u.id <> $3::uuid)
        and (lower(u.email) = lower($1)
             or exists (select 1 from auth.identities i where i.user_id = u.id and i.email = lower($1)))
      limit 1`,
    [email, aud, exceptUserId ?? null],
  );
  return rows.length > 0;
}

export async function phoneTaken(db: Queryable, phone: string, aud: string, exceptUserId?: string) {
  const rows = await query<{ id: string }>(
    db,
    `select id from auth.users where instance_id = '${NIL_INSTANCE}' and phone = $1 and aud = $2
        and ($3::uuid is null or id <> $3::uuid) limit 1`,
    [phone, aud, exceptUserId ?? null],
  );
  return rows.length > 0;
}

/**
 * Merge metadata as GoTrue's UpdateUserMetaData/UpdateAppMetaData do: keys set to null are removed,
 * every other key replaces the stored one. Done in SQL so concurrent writers cannot lose keys.
 */
export function mergeMetadataSql(column: 'raw_user_meta_data' | 'raw_app_meta_data', param: string): string {
  return `${column} = (select coalesce(jsonb_object_agg(k, v), '{}'::jsonb)
      from jsonb_each(coalesce(${column}, '{}'::jsonb) || ${param}::jsonb) as e(k, v)
     where v <> 'null'::jsonb)`;
}
