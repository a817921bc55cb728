/**
 * Realtime Authorization for private channels, as hosted runs it (PROTOCOL-BROADCAST.md §2.3–2.5):
 * the project's RLS policies on `realtime.messages` decide, per channel and token, whether it may
 * read (join, receive) and write (send, track). Both checks are probes in a transaction that is
 * always rolled back, so nothing persists and the replication stream never sees them.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ProjectContext } from '../context.ts';
import type { Claims } from '../jwt.ts';

export type Extension = 'broadcast' | 'presence';

/** What a channel may do; `undefined` = not checked (presence off at join, or write not yet used). */
export interface Policies {
  broadcastRead: boolean;
  presenceRead: boolean | undefined;
  broadcastWrite?: boolean;
  presenceWrite?: boolean;
}

export interface AuthorizationContext {
  /** Sub-topic, without `realtime:` (what `realtime.topic()` returns inside a policy). */
  topic: string;
  claims: Claims;
  /** The request's `x-*` headers (socket) or all its headers (HTTP API), for `request.headers`. */
  headers: Record<string, string>;
}

export type ReadCheck =
  | { ok: true; broadcast: boolean; presence: boolean | undefined }
  | { ok: false; error: string };
export type WriteCheck = { ok: true; allowed: boolean } | { ok: false; error: string };

/**
 * The read probe at join: one row per extension inserted with the superuser's rights (`private`
 * false, `event` and `payload` NULL, as hosted's probe rows are), then, as the token's role with
 * the six transaction-local settings, which of them SELECT policies let through. Any SQL error
 * (a policy that raises, a role that does not exist) is `{ ok: false }`: the join is refused.
 */
export async function checkRead(
  ctx: ProjectContext,
  auth: AuthorizationContext,
  presence: boolean,
): Promise<ReadCheck> {
  const extensions: Extension[] = presence ? ['broadcast', 'presence'] : ['broadcast'];
  const ids = extensions.map(() => randomUUID());
  return probe(ctx, async (client) => {
    const now = new Date().toISOString();
    await client.query(
      `insert into realtime.messages (id, topic, extension, updated_at, inserted_at)
       select id, $2, ext, $3::timestamptz at time zone 'utc', $3::timestamptz at time zone 'utc'
         from unnest($1::uuid[], $4::text[]) as p(id, ext)`,
      [ids, auth.topic, now, extensions],
    );
    await setConnConfig(client, auth);
    const { rows } = await client.query<{ id: string }>(
      'select m0.id from realtime.messages as m0 where m0.id = any($1::uuid[])',
      [ids],
    );
    const visible = new Set(rows.map((r) => r.id));
    return {
      ok: true as const,
      broadcast: visible.has(ids[0] as string),
      presence: presence ? visible.has(ids[1] as string) : undefined,
    };
  });
}

/**
 * The write probe, run lazily on a channel's first send or track (and per private HTTP broadcast):
 * an INSERT as the token's role, without RETURNING (so only INSERT policies count). A policy's
 * `WITH CHECK` failing (42501) is "not allowed"; any other error fails the check.
 */
export async function checkWrite(
  ctx: ProjectContext,
  auth: AuthorizationContext,
  extension: Extension,
): Promise<WriteCheck> {
  return probe(ctx, async (client) => {
    await setConnConfig(client, auth);
    await client.query('savepoint rtm_write_probe');
    try {
      const now = new Date().toISOString();
      await client.query(
        `insert into realtime.messages (topic, extension, updated_at, inserted_at)
         values ($1, $2, $3::timestamptz at time zone 'utc', $3::timestamptz at time zone 'utc')`,
        [auth.topic, extension, now],
      );
      return { ok: true as const, allowed: true };
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === '42501') {
        await client.query('rollback to savepoint rtm_write_probe');
        return { ok: true as const, allowed: false };
      }
      throw error;
    }
  });
}

/** `set_conn_config`: role, topic, claims, sub, role claim and headers, all transaction-local. */
async function setConnConfig(client: pg.PoolClient, auth: AuthorizationContext): Promise<void> {
  const role = String(auth.claims.role);
  const sub = typeof auth.claims['sub'] === 'string' ? auth.claims['sub'] : null;
  await client.query(
    `select set_config('role', $1, true), set_config('realtime.topic', $2, true),
            set_config('request.jwt.claims', $3, true), set_config('request.jwt.claim.sub', coalesce($4, ''), true),
            set_config('request.jwt.claim.role', $1, true), set_config('request.headers', $5, true)`,
    [role, auth.topic, JSON.stringify(roundedClaims(auth.claims)), sub, JSON.stringify(auth.headers)],
  );
}

/** Hosted rounds `exp` and `iat` to integers before handing the claims to Postgres. */
function roundedClaims(claims: Claims): Record<string, unknown> {
  const out: Record<string, unknown> = { ...claims };
  for (const k of ['exp', 'iat', 'nbf'])
    if (typeof out[k] === 'number') out[k] = Math.round(out[k] as number);
  return out;
}

/** One transaction on the superuser pool, always rolled back; SQL errors become `{ ok: false }`. */
async function probe<T extends { ok: true }>(
  ctx: ProjectContext,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T | { ok: false; error: string }> {
  const client = await ctx.db.admin.connect();
  try {
    await client.query('begin');
    return await fn(client);
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) throw error;
    return { ok: false, error: `${error.code ?? ''} ${error.message}`.trim() };
  } finally {
    await client.query('rollback').catch(() => undefined);
    client.release();
  }
}

/**
 * Request headers as `request.headers` sees them (one string each). The socket passes only its
 * `x-*` headers, as hosted's socket does; the HTTP API passes them all.
 */
export function policyHeaders(
  headers: Record<string, string | string[] | undefined>,
  keep: (name: string) => boolean = () => true,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || !keep(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
