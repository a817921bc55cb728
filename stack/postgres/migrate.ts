import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const BOOTSTRAP = fileURLToPath(new URL('./bootstrap.sql', import.meta.url));
export const SUPABASE_DIR = fileURLToPath(new URL('../../supabase', import.meta.url));

/** Extra SQL files from the stack's components (e.g. realtime's helper functions). */
const componentSql: string[] = [];
export function registerBootstrapSql(file: string): void {
  if (!componentSql.includes(file)) componentSql.push(file);
}

/**
 * Bring a database to the shape of a fresh Supabase project, then apply the app's migrations in
 * name order and its seed, as `supabase start` does. Each file runs in its own transaction so a
 * failing migration names itself and leaves nothing half-applied. Applied versions are recorded in
 * `supabase_migrations.schema_migrations` like the Supabase CLI does, so a persisted database
 * (`--persist DIR`) boots again without re-running them; the seed runs only on a fresh database.
 */
export async function migrate(
  connectionString: string,
  supabaseDir: string = SUPABASE_DIR,
): Promise<string[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const applied: string[] = [];
  try {
    await runFile(client, BOOTSTRAP);
    for (const file of componentSql) await runFile(client, file);
    const { rows } = await client.query<{ created: boolean }>(
      `select to_regclass('supabase_migrations.schema_migrations') is null as created`,
    );
    const fresh = rows[0]?.created ?? true;
    await client.query(`create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text)`);
    const done = new Set(
      (
        await client.query<{ version: string }>('select version from supabase_migrations.schema_migrations')
      ).rows.map((r) => r.version),
    );
    const migrationsDir = join(supabaseDir, 'migrations');
    const names = (await readdir(migrationsDir).catch(() => [] as string[]))
      .filter((n) => n.endsWith('.sql'))
      .sort();
    for (const name of names) {
      const [version = name, ...rest] = name.replace(/\.sql$/, '').split('_');
      if (done.has(version)) continue;
      await runFile(client, join(migrationsDir, name), {
        text: 'insert into supabase_migrations.schema_migrations (version, name) values ($1, $2)',
        values: [version, rest.join('_')],
      });
      applied.push(name);
    }
    const seed = join(supabaseDir, 'seed.sql');
    const hasSeed = await readFile(seed, 'utf8').then(
      () => true,
      () => false,
    );
    if (fresh && hasSeed) {
      await runFile(client, seed);
      applied.push('seed.sql');
    }
  } finally {
    await client.end();
  }
  return applied;
}

/** A migration, seed or bootstrap file Postgres refused; `cause` is pg's error (message, position). */
export class MigrationError extends Error {
  constructor(
    message: string,
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

async function runFile(client: pg.Client, file: string, record?: pg.QueryConfig): Promise<void> {
  const sql = await readFile(file, 'utf8');
  try {
    await client.query('begin');
    await client.query(sql);
    if (record) await client.query(record);
    await client.query('commit');
  } catch (cause) {
    await client.query('rollback').catch(() => {});
    const e = cause as pg.DatabaseError;
    throw new MigrationError(
      `Applying ${file} failed: ${e.message}${e.position ? ` (at character ${e.position})` : ''}`,
      file,
      { cause },
    );
  }
}
