/**
 * Turning a channel's bindings into registry entries, refusing as hosted does (subscriptions.ex
 * `create/5` and the realtime.subscription trigger): every binding is parsed before the database is
 * asked anything; each must match at least one published table; each table must accept its filters
 * for the subscriber's role. The first refusal refuses the whole channel, with hosted's message.
 */
import pg from 'pg';
import { fingerprint } from '../../keys.ts';
import type { ChangesSubscription } from '../changes-api.ts';
import { claimsRegistryKey } from './authorize.ts';
import type { Catalog } from './catalog.ts';
import { compileFilter, type FilterCheck } from './filters.ts';
import { describeParams, type ParsedParams, parseSubscriptionParams } from './params.ts';
import { type Entry, stableClaimsKey } from './registry.ts';
import { postgrexMessage } from './sqlstate.ts';

const UNABLE = 'Unable to subscribe to changes with given parameters.';

export type BuildResult =
  | { ok: true; entries: { oid: number; entry: Entry }[] }
  | { ok: false; message: string };

export async function buildEntries(
  pool: pg.Pool,
  catalog: Catalog,
  sub: ChangesSubscription,
): Promise<BuildResult> {
  const parsed: { id: number; params: ParsedParams }[] = [];
  for (const b of sub.bindings) {
    const result = parseSubscriptionParams(b.params);
    if (!result.ok) return { ok: false, message: result.message };
    parsed.push({ id: b.id, params: result.params });
  }
  const role = String(sub.claims.role);
  const claimsKey = stableClaimsKey(sub.claims);
  const claimsFingerprint = fingerprint(claimsKey);
  const registryKey = claimsRegistryKey(claimsKey);
  const entries: { oid: number; entry: Entry }[] = [];
  for (const { id, params } of parsed) {
    const tables = await catalog.published(params.schema, params.table);
    if (!tables.length) {
      return {
        ok: false,
        message: `${UNABLE} Please check Realtime is enabled for the given connect parameters: [${describeParams(params)}]`,
      };
    }
    for (const t of tables) {
      // Subscribing is when a table's shape is re-read (the stream only re-describes a relation
      // before its next change).
      catalog.invalidate(t.oid);
      let checks: FilterCheck[];
      try {
        checks = await checkSubscription(pool, t.oid, role, params);
      } catch (error) {
        if (!(error instanceof pg.DatabaseError)) throw error;
        return {
          ok: false,
          message: `${UNABLE} An exception happened so please check your connect parameters: [${describeParams(params)}]. Exception: ${postgrexMessage(error)}`,
        };
      }
      entries.push({
        oid: t.oid,
        entry: {
          sub,
          bindingId: id,
          action: params.action,
          filters: params.filters.map((f, i) => compileFilter(f, checks[i] as FilterCheck)),
          selected: params.selected,
          role,
          claimsKey,
          claimsFingerprint,
          claimsRegistryKey: registryKey,
        },
      });
    }
  }
  return { ok: true, entries };
}

async function checkSubscription(
  pool: pg.Pool,
  oid: number,
  role: string,
  params: ParsedParams,
): Promise<FilterCheck[]> {
  const { rows } = await pool.query<{ r: FilterCheck[] }>(
    'select realtime.rtm_check_subscription($1::oid::regclass, $2, $3, $4, $5, $6) as r',
    [
      oid,
      role,
      params.filters.map((f) => f.column),
      params.filters.map((f) => f.op),
      params.filters.map((f) => f.value),
      params.selected,
    ],
  );
  return rows[0]?.r ?? [];
}
