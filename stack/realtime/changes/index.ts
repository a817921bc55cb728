/**
 * The postgres_changes engine of one project: a pgoutput stream from a temporary logical slot,
 * subscriptions validated as hosted Realtime validates them, and per-change authorization as the
 * hosted "walrus" pipeline does it (PROTOCOL.md §2.6–2.9, §2.15).
 */
import type { ProjectContext } from '../../context.ts';
import type { ChangesEngine, ChangesSubscription, SubscribeResult } from '../changes-api.ts';
import { type DbBroadcast, decodeMessage, isMessagesRelation } from '../db-broadcast/index.ts';
import { Catalog } from './catalog.ts';
import { type ChangesMetrics, Dispatcher } from './dispatch.ts';
import { ensureFunctions } from './install.ts';
import { Registry } from './registry.ts';
import { dropStaleSlots } from './replication.ts';
import { ChangeStream } from './stream.ts';
import { buildEntries } from './subscribe.ts';

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
  const broadcastListeners = new Set<(message: DbBroadcast) => void>();
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
    onChange: (change) => {
      if (!isMessagesRelation(change.relation)) {
        dispatcher.handle(change);
        return;
      }
      // Only inserted rows are messages; the authorization probes roll back and never arrive.
      if (change.kind !== 'INSERT' || !change.newTuple) return;
      const decoded = decodeMessage(change.relation, change.newTuple);
      if (!decoded.ok) {
        log.warn('UnableToBroadcastChanges: a realtime.messages row was dropped', { why: decoded.why });
        return;
      }
      for (const listener of broadcastListeners) listener(decoded.message);
    },
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
      const built = await buildEntries(pool, catalog, sub);
      if (!built.ok) return built;
      const { entries } = built;
      if (stopped)
        return { ok: false, message: 'Unable to subscribe to changes: the realtime service is stopping' };
      // Registered synchronously: every change decoded from now on sees this subscription.
      registry.replace(sub.key, entries);
      log.debug('subscribed', {
        key: sub.key,
        role: String(sub.claims.role),
        tables: [...new Set(entries.map((e) => e.oid))].length,
      });
      return { ok: true };
    },

    unsubscribe(key: string): void {
      registry.remove(key);
    },

    onBroadcast(listener) {
      broadcastListeners.add(listener);
      return () => broadcastListeners.delete(listener);
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
