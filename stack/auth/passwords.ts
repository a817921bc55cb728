import { AuthError, badRequest } from './errors.ts';
import { type Queryable, query } from './sql.ts';

/** bcrypt reads at most 72 bytes; GoTrue refuses longer passwords instead of truncating them. */
const MAX_PASSWORD_LENGTH = 72;
/** GoTrue's and the CLI's default `minimum_password_length`. */
const MIN_PASSWORD_LENGTH = 6;
/** GoTrue hashes with bcrypt.DefaultCost. */
const BCRYPT_COST = 10;

/**
 * GoTrue's checkPasswordStrength: too long is a 400, too short a 422 `weak_password` carrying its
 * reasons (PROTOCOL.md §3.8).
 */
export function checkPasswordStrength(password: string): void {
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw badRequest('validation_failed', `Password cannot be longer than ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (password.length < MIN_PASSWORD_LENGTH) {
    const message = `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`;
    throw new AuthError(422, 'weak_password', message, { extra: { weak_password: { reasons: ['length'] } } });
  }
}

/**
 * bcrypt in Postgres (pgcrypto), so hashes are interchangeable with seeds written the Supabase way
 * (`crypt('pw', gen_salt('bf'))`). The clear password only ever travels as a bind parameter.
 */
export async function hashPassword(db: Queryable, password: string): Promise<string> {
  const [row] = await query<{ hash: string }>(
    db,
    `select extensions.crypt($1, extensions.gen_salt('bf', ${BCRYPT_COST})) as hash`,
    [password],
  );
  if (!row) throw new Error('pgcrypto crypt() returned no row while hashing a password');
  return row.hash;
}

/** True when `password` matches the stored bcrypt hash; false for a missing or non-bcrypt hash. */
export async function passwordMatches(
  db: Queryable,
  hash: string | null,
  password: string,
): Promise<boolean> {
  if (!hash || !/^\$2[abxy]?\$\d\d\$/.test(hash)) return false;
  const [row] = await query<{ ok: boolean }>(db, 'select extensions.crypt($1, $2) = $2 as ok', [
    password,
    hash,
  ]);
  return row?.ok === true;
}
