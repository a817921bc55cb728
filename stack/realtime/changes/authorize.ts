/**
 * The one query a change costs: cast its values to JSON exactly as hosted does
 * (`to_jsonb(value::type)`, bytea left as its text) and authorize it for every distinct claims set
 * through `realtime.rtm_authorize` (column privileges per role, RLS visibility per claims).
 *
 * Claims are registered once per database session (see functions.sql): a change sends each claims
 * set's key and role only; when the connection lacks some, the same statement runs again with the
 * claims JSON, which registers them on that connection.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Claims } from '../../jwt.ts';
import type { TableMeta } from './catalog.ts';
import { stableClaimsKey } from './registry.ts';

/**
 * Session registry key of a claims set: 128 bits of SHA-256 over its stable JSON (a collision
 * would authorize one subscriber with another's claims, so not the short log fingerprint).
 */
export function claimsRegistryKey(claimsKey: string): string {
  return createHash('sha256').update(claimsKey).digest('hex').slice(0, 32);
}

/** Keys of claims objects passed without `claimKeys` (the engine passes them; callers reuse objects). */
const keysOf = new WeakMap<Claims, string>();
function keyOf(claims: Claims): string {
  let key = keysOf.get(claims);
  if (key === undefined) {
    key = claimsRegistryKey(stableClaimsKey(claims));
    keysOf.set(claims, key);
  }
  return key;
}

/** `claims ->> 'role'` as Postgres would give it. */
function roleText(role: unknown): string | null {
  if (role === null || role === undefined) return null;
  return typeof role === 'string' ? role : JSON.stringify(role);
}

export interface CastRequest {
  /** Column type (`regtype` text) and value text. NULLs are cast too (to JSON null), so the
   * statement text depends only on which columns a change carries, not on its values. */
  type: string;
  value: string | null;
}

export interface AuthorizeRequest {
  table: TableMeta;
  /** Roles of every subscriber interested in the action (for the per-role privilege arrays). */
  roles: string[];
  /** Distinct claims among the subscribers whose filters matched. */
  claims: Claims[];
  /** `claimsRegistryKey` of each of `claims` (computed here when absent). */
  claimKeys?: string[];
  /** PK values of the new row (INSERT/UPDATE); empty when no row check is needed. */
  pkValues: string[];
  checkRows: boolean;
  /** The change's transaction: row checks wait until it is visible to new snapshots. */
  xid: number;
  casts: CastRequest[];
}

export interface AuthorizeResult {
  rls: boolean;
  /** Per role: SELECT privilege for each of `table.columns`, in order. */
  privileges: Record<string, boolean[]>;
  /** Per role: may it SELECT every primary key column. */
  pkOk: Record<string, boolean>;
  /** Per claims (same order as requested): may it see the row. */
  visible: boolean[];
  /** JSON values of `casts`, in order. */
  values: unknown[];
  /** True when the connection lacked some claims and the call was repeated with them. */
  claimsShipped: boolean;
  /** Claims (index into the request's) whose RLS check raised: they do not see the row. */
  failed: { index: number; error: string; sqlstate: string }[];
}

interface AuthorizeRow {
  v: unknown[];
  a:
    | { missing: number }
    | {
        rls: boolean;
        privileges: Record<string, boolean[]>;
        pk_ok: Record<string, boolean>;
        visible: boolean[];
        failed: { index: number; error: string; sqlstate: string }[];
      };
}

export async function authorize(pool: pg.Pool, req: AuthorizeRequest): Promise<AuthorizeResult> {
  const { table } = req;
  const pkTypes = table.pk.map((name) => table.columns.find((c) => c.name === name)?.regtype ?? 'text');
  const keys = req.claimKeys ?? req.claims.map(keyOf);
  const params: unknown[] = [
    table.oid,
    table.columns.map((c) => c.name),
    req.roles,
    table.pk,
    pkTypes,
    req.pkValues,
    req.checkRows,
    keys,
    req.claims.map((c) => roleText(c.role)),
    null,
    req.xid,
    false,
  ];
  const casts = req.casts.map((c) => {
    params.push(c.value);
    const p = `$${params.length}`;
    return c.type === 'bytea' ? `to_jsonb(${p}::text)` : `to_jsonb(${p}::${c.type})`;
  });
  // Casts come first in the select list so they run before the function switches roles.
  const text = `select array[${casts.length ? casts.join(', ') : ''}]::jsonb[] as v,
    realtime.rtm_authorize($1::oid::regclass, $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                           $7::boolean, $8::text[], $9::text[], $10::jsonb, $11::bigint, $12::boolean) as a`;
  // Named, so each pooled connection plans a given table shape once (a handful per table).
  const name = `rtm_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  let claimsShipped = false;
  const call = async (): Promise<AuthorizeRow[]> => {
    let { rows } = await pool.query<AuthorizeRow>({ name, text, values: params });
    if (rows[0] && 'missing' in rows[0].a) {
      // This connection has not seen some of the claims yet: send them (registering them on it).
      params[9] = JSON.stringify(req.claims);
      claimsShipped = true;
      ({ rows } = await pool.query<AuthorizeRow>({ name, text, values: params }));
    }
    return rows;
  };
  let rows: AuthorizeRow[];
  try {
    rows = await call();
  } catch (error) {
    // A policy raised for some claims set. Ask again with each check contained, so that
    // subscriber alone misses the row (a failure outside the checks fails this call again).
    if (!(error instanceof pg.DatabaseError) || req.claims.length === 0) throw error;
    params[11] = true;
    rows = await call();
  }
  const row = rows[0];
  if (!row) throw new Error(`realtime.rtm_authorize returned no row for ${table.schema}.${table.table}`);
  if ('missing' in row.a) {
    throw new Error(
      `realtime.rtm_authorize still lacked ${row.a.missing} claims sets after they were sent for ${table.schema}.${table.table}`,
    );
  }
  return {
    claimsShipped,
    rls: row.a.rls,
    privileges: row.a.privileges,
    pkOk: row.a.pk_ok,
    visible: row.a.visible,
    failed: row.a.failed ?? [],
    values: row.v ?? [],
  };
}
