/**
 * The floor: the earliest a change can be seen outside Postgres — its pgoutput INSERT message
 * received in Node on a replication connection of its own (pg-logical-replication), no RLS, no
 * websocket. Its slot is named `rtm_bench_floor_*` and dropped at the end (and at the next start if
 * a run was killed).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';

const SLOT_PREFIX = 'rtm_bench_floor_';

export interface Floor {
  stop(): Promise<void>;
}

export async function startFloor(
  dbUrl: string,
  onInsert: (table: string, row: Record<string, unknown>, arrivedAt: number) => void,
): Promise<Floor> {
  const admin = new pg.Client({ connectionString: dbUrl });
  await admin.connect();
  await admin.query(
    `select pg_drop_replication_slot(slot_name) from pg_replication_slots
      where slot_name like $1 and not active and database = current_database()`,
    [`${SLOT_PREFIX}%`],
  );
  const slot = `${SLOT_PREFIX}${randomBytes(4).toString('hex')}`;
  await admin.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);

  const service = new LogicalReplicationService(
    { connectionString: dbUrl },
    { acknowledge: { auto: true, timeoutSeconds: 10 } },
  );
  service.on(
    'data',
    (_lsn: string, message: { tag: string; relation?: { name: string }; new?: Record<string, unknown> }) => {
      if (message.tag !== 'insert' || !message.new || !message.relation) return;
      onInsert(message.relation.name, message.new, performance.now());
    },
  );
  let failed: Error | undefined;
  service.on('error', (error: Error) => {
    failed = error;
  });
  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: ['supabase_realtime'] });
  const started = new Promise<void>((resolve) => service.once('start', () => resolve()));
  service.subscribe(plugin, slot).catch((error: Error) => {
    failed = error;
  });
  await Promise.race([
    started,
    new Promise((_, reject) =>
      setTimeout(
        () =>
          reject(
            new Error(
              `Floor replication on slot ${slot} did not start within 10 s: ${failed?.message ?? 'no error reported'}`,
            ),
          ),
        10_000,
      ),
    ),
  ]);
  return {
    async stop() {
      await service.stop().catch(() => undefined);
      // The walsender lets go of the slot asynchronously after the connection ends.
      for (let i = 0; i < 50; i++) {
        const { rows } = await admin.query('select active from pg_replication_slots where slot_name = $1', [
          slot,
        ]);
        if (!rows[0]?.active) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await admin.query('select pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
      await admin.end();
    },
  };
}
