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
 * failing migration names itself and leaves nothing half-applied.
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
    const migrationsDir = join(supabaseDir, 'migrations');
    const names = (await readdir(migrationsDir).catch(() => [] as string[]))
      .filter((n) => n.endsWith('.sql'))
      .sort();
    for (const name of names) {
      await runFile(client, join(migrationsDir, name));
      applied.push(name);
    }
    const seed = join(supabaseDir, 'seed.sql');
    if (
      await readFile(seed, 'utf8').then(
        () => true,
        () => false,
      )
    ) {
      await runFile(client, seed);
      applied.push('seed.sql');
    }
  } finally {
    await client.end();
  }
  return applied;
}

async function runFile(client: pg.Client, file: string): Promise<void> {
  const sql = await readFile(file, 'utf8');
  try {
    await client.query('begin');
    await client.query(sql);
    await client.query('commit');
  } catch (cause) {
    await client.query('rollback').catch(() => {});
    const e = cause as pg.DatabaseError;
    throw new Error(
      `Applying ${file} failed: ${e.message}${e.position ? ` (at character ${e.position})` : ''}`,
      {
        cause,
      },
    );
  }
}
