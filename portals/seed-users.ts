// Before supabase-js loads: its Node-version warning is said once per run (stack/node-support.ts).
import '../stack/node-support.ts';
import { type AuthError, createClient, type User } from '@supabase/supabase-js';
import ws from 'ws';
import { fingerprint } from '../stack/keys.ts';

export interface SeedUser {
  email: string;
  password: string;
  /** Merged into the user's app_metadata (e.g. the help-desk's `{ user_role: 'agent' }`). */
  appMetadata?: Record<string, unknown>;
  /** Shorthand for `appMetadata: { user_role: role }` (the help-desk's access token hook copies it). */
  role?: string;
}

export interface SeededUser {
  email: string;
  /** The app_metadata the user was given. */
  appMetadata: Record<string, unknown>;
  id: string;
  /** false when the user existed and was brought up to date. */
  created: boolean;
}

export interface SeedOptions {
  /** For targets Node's default fetch cannot reach as is (e.g. a self-signed edge). */
  fetch?: typeof fetch;
}

const PER_PAGE = 1000;

/**
 * Make sure each user exists with exactly this password, a confirmed email and this role, through
 * the admin API as a team would against a hosted project. Idempotent: existing users are updated,
 * never duplicated. Errors name the user and carry the server's answer; the key only as a fingerprint.
 */
export async function ensureSeedUsers(
  supabaseUrl: string,
  serviceRoleKey: string,
  users: SeedUser[],
  options: SeedOptions = {},
): Promise<SeededUser[]> {
  const supabase = createClient(supabaseUrl, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // Never used for seeding; given so supabase-js constructs on Node 20, which lacks WebSocket.
    realtime: { transport: ws as never },
    ...(options.fetch ? { global: { fetch: options.fetch } } : {}),
  });
  const where = `${supabaseUrl} (service-role key ${fingerprint(serviceRoleKey)})`;
  let existing = await usersByEmail();
  const seeded: SeededUser[] = [];
  for (const user of users) {
    const appMetadata = { ...(user.role ? { user_role: user.role } : {}), ...user.appMetadata };
    const attributes = {
      password: user.password,
      email_confirm: true,
      // GoTrue merges app_metadata, so provider/providers stay as they are.
      ...(Object.keys(appMetadata).length ? { app_metadata: appMetadata } : {}),
    };
    let found = existing.get(user.email.toLowerCase());
    if (!found) {
      const { data, error } = await supabase.auth.admin.createUser({ email: user.email, ...attributes });
      if (!error) {
        seeded.push({ email: user.email, appMetadata, id: data.user.id, created: true });
        continue;
      }
      // Someone else created it since we listed (a parallel worker): update it instead.
      if (error.code !== 'email_exists') throw seedError('create', user, where, error);
      existing = await usersByEmail();
      found = existing.get(user.email.toLowerCase());
      if (!found) throw seedError('find after "email_exists" for', user, where, error);
    }
    const { error } = await supabase.auth.admin.updateUserById(found.id, attributes);
    if (error) throw seedError('update', user, where, error);
    seeded.push({ email: user.email, appMetadata, id: found.id, created: false });
  }
  return seeded;

  async function usersByEmail(): Promise<Map<string, User>> {
    const byEmail = new Map<string, User>();
    for (let page = 1; ; page++) {
      const { data, error } = await supabase.auth.admin.listUsers({ page, perPage: PER_PAGE });
      if (error) {
        throw new Error(
          `Could not list users at ${where} to seed ${users.map((u) => u.email).join(', ')}: ` +
            `${describeAuthError(error)}. Check that the URL is the project's API and the key is its service-role key.`,
          { cause: error },
        );
      }
      for (const u of data.users) if (u.email) byEmail.set(u.email.toLowerCase(), u);
      if (data.users.length < PER_PAGE) return byEmail;
    }
  }
}

function seedError(action: string, user: SeedUser, where: string, error: AuthError): Error {
  return new Error(
    `Could not ${action} seeded user ${user.email} (app_metadata ${JSON.stringify({ ...(user.role ? { user_role: user.role } : {}), ...user.appMetadata })}) at ${where}: ${describeAuthError(error)}. ` +
      'Check the server log for this request; a weak_password means the project requires a stronger password.',
    { cause: error },
  );
}

function describeAuthError(error: AuthError): string {
  return `HTTP ${error.status ?? 'no status'} ${error.code ?? error.name} "${error.message}"`;
}
