import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { registerBootstrapSql } from '../../postgres/migrate.ts';

const FUNCTIONS_SQL = fileURLToPath(new URL('./functions.sql', import.meta.url));
/** Bump together with `realtime.rtm_changes_version()` in functions.sql. */
const VERSION = 7;

// Every project bootstraps with the engine's helpers, so the first subscribe never waits on DDL.
registerBootstrapSql(FUNCTIONS_SQL);

/**
 * Install the helpers if this database lacks the current version (a project bootstrapped before the
 * engine was imported). Serialized by an advisory lock because two engines may start on one database
 * at once, and concurrent `create or replace function` on the same function fails.
 */
export async function ensureFunctions(pool: pg.Pool): Promise<void> {
  if (await hasVersion(pool)) return;
  const sql = await readFile(FUNCTIONS_SQL, 'utf8');
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select pg_advisory_xact_lock(hashtext('rtm_changes_functions'))`);
    await client.query(sql);
    await client.query('commit');
  } catch (cause) {
    await client.query('rollback').catch(() => undefined);
    throw new Error(
      `Installing the postgres_changes helper functions (${FUNCTIONS_SQL}) failed: ${(cause as Error).message}. ` +
        'Check that the database is reachable as the superuser and the realtime schema can be created.',
      { cause },
    );
  } finally {
    client.release();
  }
}

async function hasVersion(pool: pg.Pool): Promise<boolean> {
  // Read the body instead of calling it: a call to a missing function fails at parse time.
  const { rows } = await pool.query<{ src: string }>(
    `select p.prosrc as src from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'realtime' and p.proname = 'rtm_changes_version'`,
  );
  return rows.some((r) => r.src.trim() === `select ${VERSION}`);
}
