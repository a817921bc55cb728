import pg from 'pg';
import type { Claims } from '../jwt.ts';

/** The API roles a token may assume, as PostgREST's `authenticator` can (it is granted exactly these). */
export const API_ROLES = new Set(['anon', 'authenticated', 'service_role']);

/**
 * A project's database handles. `admin` is the superuser (what GoTrue and Realtime's own bookkeeping
 * use); `api` logs in as `authenticator` and can only become a role it was granted, so a token whose
 * role is not an API role fails in Postgres exactly as it does behind PostgREST.
 */
export class Database {
  readonly admin: pg.Pool;
  readonly api: pg.Pool;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly database: string,
  ) {
    this.admin = new pg.Pool({ host, port, database, user: 'postgres', password: 'postgres', max: 10 });
    this.api = new pg.Pool({ host, port, database, user: 'authenticator', password: 'postgres', max: 20 });
    // An idle client that errors (server restart) must not crash the process.
    this.admin.on('error', () => {});
    this.api.on('error', () => {});
  }

  /**
   * Run `fn` in one transaction as the token's role with `request.jwt.claims` set, the way PostgREST
   * does (PROTOCOL.md §4.3), so RLS and `auth.uid()` see exactly what they see when hosted.
   */
  async asClaims<T>(
    claims: Claims | Record<string, unknown>,
    fn: (client: pg.PoolClient) => Promise<T>,
    gucs: Record<string, string> = {},
  ): Promise<T> {
    const client = await this.api.connect();
    try {
      await client.query('begin');
      const role = String(claims['role'] ?? 'anon');
      await client.query(`set local role ${pg.escapeIdentifier(role)}`);
      await client.query(
        `select set_config('request.jwt.claims', $1, true), set_config('search_path', 'public, extensions', true)` +
          Object.keys(gucs)
            .map((_, i) => `, set_config($${i * 2 + 2}, $${i * 2 + 3}, true)`)
            .join(''),
        [JSON.stringify(claims), ...Object.entries(gucs).flat()],
      );
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async end(): Promise<void> {
    await Promise.allSettled([this.admin.end(), this.api.end()]);
  }
}
