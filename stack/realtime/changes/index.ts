/**
 * The postgres_changes engine of one project: a pgoutput stream from a temporary logical slot,
 * subscriptions validated as hosted Realtime validates them, and per-change authorization as the
 * hosted "walrus" pipeline does it (PROTOCOL.md §2.6–2.9, §2.15).
 */
import pg from 'pg';
import type { ProjectContext } from '../../context.ts';
import { fingerprint } from '../../keys.ts';
import type { ChangesEngine, ChangesSubscription, SubscribeResult } from '../changes-api.ts';
import { Catalog } from './catalog.ts';
import { type ChangesMetrics, Dispatcher } from './dispatch.ts';
import type { FilterCheck } from './filters.ts';
import { compileFilter } from './filters.ts';
import { ensureFunctions } from './install.ts';
import { describeParams, type ParsedParams, parseSubscriptionParams } from './params.ts';
import { type Entry, Registry, stableClaimsKey } from './registry.ts';
import { dropStaleSlots } from './replication.ts';
import { postgrexMessage } from './sqlstate.ts';
import { ChangeStream } from './stream.ts';

export type { ChangesMetrics } from './dispatch.ts';

const engines = new WeakMap<ChangesEngine, { dispatcher: Dispatcher; stream: ChangeStream }>();

export interface EngineMetrics extends ChangesMetrics {
  /** False while the replication connection is lost and being re-established. */
  streaming: boolean;
  /** Times the replication connection came back after being lost. */
  reconnects: number;
}

/** Counters of an engine made by `createChangesEngine` (tests and the benchmark read them). */
export function changesMetrics(engine: ChangesEngine): EngineMetrics {
  const parts = engines.get(engine);
  if (!parts) throw new Error('changesMetrics() needs an engine returned by createChangesEngine()');
  return {
    ...parts.dispatcher.metrics,
    streaming: !parts.stream.failure,
    reconnects: parts.stream.reconnects,
  };
}

export async function createChangesEngine(ctx: ProjectContext): Promise<ChangesEngine> {
  const log = ctx.log.child('changes');
  const pool = ctx.db.admin;
  await ensureFunctions(pool);
  await dropStaleSlots(pool, log);

  const catalog = new Catalog(pool);
  const registry = new Registry();
  const dispatcher = new Dispatcher(pool, catalog, registry, log);
  let stopped = false;
  const stream = await ChangeStream.start({
    // The superuser the admin pool logs in as (replication needs the REPLICATION attribute).
    target: {
      host: ctx.db.host,
      port: ctx.db.port,
      database: ctx.db.database,
      user: String(pool.options.user),
      password: String(pool.options.password),
    },
    log,
    onChange: (change) => dispatcher.handle(change),
    onRelation: (oid) => catalog.invalidate(oid),
  });

  const engine: ChangesEngine = {
    async subscribe(sub: ChangesSubscription): Promise<SubscribeResult> {
      if (stopped) {
        throw new Error(
          `postgres_changes engine of project ${ctx.config.name} is stopped; subscribe on a running project`,
        );
      }
      const lost = stream.failure;
      if (lost) {
        throw new Error(
          `postgres_changes is reconnecting to the database of project ${ctx.config.name} (${lost.message}); ` +
            'subscribe again in a moment, or check that Postgres is up if this persists.',
          { cause: lost },
        );
      }
      // Parse every binding first, as hosted does before touching the database.
      const parsed: { id: number; params: ParsedParams }[] = [];
      for (const b of sub.bindings) {
        const result = parseSubscriptionParams(b.params);
        if (!result.ok) return { ok: false, message: result.message };
        parsed.push({ id: b.id, params: result.params });
      }
      const role = String(sub.claims.role);
      const claimsKey = stableClaimsKey(sub.claims);
      const claimsFingerprint = fingerprint(claimsKey);
      const entries: { oid: number; entry: Entry }[] = [];
      for (const { id, params } of parsed) {
        const tables = await catalog.published(params.schema, params.table);
        if (!tables.length) {
          return {
            ok: false,
            message: `Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [${describeParams(params)}]`,
          };
        }
        for (const t of tables) {
          catalog.invalidate(t.oid);
          let checks: FilterCheck[];
          try {
            checks = await checkSubscription(pool, t.oid, role, params);
          } catch (error) {
            if (!(error instanceof pg.DatabaseError)) throw error;
            return {
              ok: false,
              message: `Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [${describeParams(params)}]. Exception: ${postgrexMessage(error)}`,
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
            },
          });
        }
      }
      if (stopped)
        return { ok: false, message: 'Unable to subscribe to changes: the realtime service is stopping' };
      // Registered synchronously: every change decoded from now on sees this subscription.
      registry.replace(sub.key, entries);
      log.debug('subscribed', { key: sub.key, role, tables: [...new Set(entries.map((e) => e.oid))].length });
      return { ok: true };
    },

    unsubscribe(key: string): void {
      registry.remove(key);
    },

    async stop(): Promise<void> {
      stopped = true;
      registry.clear();
      await stream.stop();
      await dispatcher.drain();
    },
  };
  engines.set(engine, { dispatcher, stream });
  return engine;
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
