import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../log.ts';
import { decodePgOutput, type PgOutputMessage } from './pgoutput.ts';

/** Every slot this engine creates starts with this, so stale ones can be told from others' slots. */
export const SLOT_PREFIX = 'rtm_changes_';
/**
 * postgres_changes' publication, and the one Broadcast from Database streams `realtime.messages`
 * through: one slot follows both, so the two share the decoding and reconnection machinery.
 */
const PUBLICATIONS = 'supabase_realtime,supabase_realtime_messages_publication';
/** How often the received position is reported when nothing asks for it (walsender timeout is 60 s). */
const STATUS_INTERVAL_MS = 5_000;

export interface ReplicationTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

export interface ReplicationStream {
  slot: string;
  stop(): Promise<void>;
}

/**
 * Stream pgoutput changes of the realtime publications from a TEMPORARY logical slot.
 * Postgres drops a temporary slot when its session ends, however the process ends, so a killed run
 * leaks nothing; and each stream has its own slot, so two engines on one database do not interfere.
 * Resolves once streaming has started: every transaction committed after that is delivered.
 */
export async function startReplication(
  target: ReplicationTarget,
  onMessage: (message: PgOutputMessage) => void,
  onFatal: (error: Error) => void,
  log: Logger,
): Promise<ReplicationStream> {
  const slot = `${SLOT_PREFIX}${process.pid}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ ...target, replication: 'database' } as pg.ClientConfig);
  let stopping = false;
  let failed = false;
  const fail = (error: Error) => {
    if (stopping || failed) return;
    failed = true;
    onFatal(error);
  };
  client.on('error', fail);
  await client.connect();
  try {
    await client.query(`CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')`);
  } catch (cause) {
    await client.end().catch(() => undefined);
    throw new Error(
      `Creating the temporary replication slot ${slot} on ${target.host}:${target.port}/${target.database} failed: ` +
        `${(cause as Error).message}. Check wal_level=logical and that max_replication_slots is not exhausted ` +
        '(select * from pg_replication_slots).',
      { cause },
    );
  }

  // pg exposes the raw protocol connection; the COPY BOTH stream is read from it directly.
  const connection = (client as unknown as { connection: ProtocolConnection }).connection;
  let received = 0n;
  let lastReported = -1n;
  const report = (replyRequested = false) => {
    if (stopping) return;
    lastReported = received;
    connection.sendCopyFromChunk(standbyStatus(received, replyRequested));
  };

  connection.on('copyData', ({ chunk }: { chunk: Buffer }) => {
    const kind = chunk[0];
    if (kind === 0x77 /* w: XLogData */) {
      const walEnd = chunk.readBigUInt64BE(9);
      let message: PgOutputMessage;
      try {
        message = decodePgOutput(chunk.subarray(25));
      } catch (error) {
        fail(new Error(`Could not decode a pgoutput message on slot ${slot}`, { cause: error }));
        return;
      }
      if (walEnd > received) received = walEnd;
      onMessage(message);
    } else if (kind === 0x6b /* k: primary keepalive */) {
      const walEnd = chunk.readBigUInt64BE(1);
      if (walEnd > received) received = walEnd;
      if (chunk[17] === 1) report();
    }
  });

  const started = new Promise<void>((resolve) => connection.once('replicationStart', () => resolve()));
  const streaming = client
    .query(
      `START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names '${PUBLICATIONS}')`,
    )
    .then(
      () => fail(new Error(`Replication on slot ${slot} ended unexpectedly`)),
      (error: Error) =>
        fail(new Error(`Replication on slot ${slot} failed: ${error.message}`, { cause: error })),
    );
  await Promise.race([
    started,
    streaming.then(() => {
      throw new Error(`START_REPLICATION on slot ${slot} returned before streaming began`);
    }),
  ]);
  const timer = setInterval(() => {
    if (received !== lastReported) report();
  }, STATUS_INTERVAL_MS);
  timer.unref();
  log.info('replication streaming', { slot, database: target.database });

  return {
    slot,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      if (failed) {
        // The session is gone or broken; the server drops a temporary slot with it.
        await client.end().catch(() => undefined);
        return;
      }
      // End streaming (CopyDone), then drop the slot on its own session, so it is gone when stop()
      // resolves. Should that fail, ending the session still drops a temporary slot, moments later.
      try {
        connection.endCopyFrom();
        await streaming;
        await client.query(`DROP_REPLICATION_SLOT ${slot}`);
      } catch (error) {
        log.warn('could not drop the replication slot explicitly; the server drops it with the session', {
          slot,
          error: (error as Error).message,
        });
      }
      await client.end().catch(() => undefined);
    },
  };
}

interface ProtocolConnection {
  on(event: 'copyData', listener: (msg: { chunk: Buffer }) => void): void;
  once(event: 'replicationStart', listener: () => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  /** Sends CopyDone. */
  endCopyFrom(): void;
}

/** Standby status update ('r'): written, flushed and applied positions, microseconds since 2000. */
function standbyStatus(lsn: bigint, replyRequested: boolean): Buffer {
  const buf = Buffer.alloc(34);
  buf.write('r', 0);
  const next = lsn + 1n;
  buf.writeBigUInt64BE(next, 1);
  buf.writeBigUInt64BE(next, 9);
  buf.writeBigUInt64BE(next, 17);
  buf.writeBigInt64BE(BigInt(Date.now() - 946_684_800_000) * 1000n, 25);
  buf.writeUInt8(replyRequested ? 1 : 0, 33);
  return buf;
}

/**
 * Drop slots with our prefix that no session holds. Temporary slots vanish with their session, but a
 * persistent slot left by an older build, or by a crash mid-creation, would pin WAL forever. An active
 * slot belongs to a live engine (possibly another project's) and is left alone.
 */
export async function dropStaleSlots(pool: pg.Pool, log: Logger): Promise<string[]> {
  const { rows } = await pool.query<{ slot_name: string }>(
    `select slot_name from pg_replication_slots
      where slot_name like $1 and not active and database = current_database()`,
    [`${SLOT_PREFIX}%`],
  );
  const dropped: string[] = [];
  for (const { slot_name } of rows) {
    try {
      await pool.query('select pg_drop_replication_slot($1)', [slot_name]);
      dropped.push(slot_name);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // Taken by a starting engine (55006) or dropped by another cleaner (42704) meanwhile: fine.
      if (code !== '55006' && code !== '42704') throw error;
    }
  }
  if (dropped.length) log.info('dropped stale replication slots', { dropped });
  return dropped;
}
